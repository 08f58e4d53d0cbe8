"""The built frontend served from the API's port (client-side routes fall back to index.html)."""

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.api.errors import add_error_handlers
from app.core.spa import mount_frontend


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A minimal built frontend, with a secret file beside it (outside dist)."""
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<html>app</html>")
    (root / "assets" / "app.js").write_text("console.log(1)")
    (root / "favicon.ico").write_bytes(b"icon")
    (tmp_path / "secret.txt").write_text("do not serve")
    return root


async def get(app: FastAPI, path: str) -> httpx.Response:
    """GET `path` from `app` in-process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path)


async def test_routes_assets_and_fallback(dist: Path) -> None:
    app = FastAPI()
    mount_frontend(app, dist, ("/api/v1",))
    index = await get(app, "/")
    assert index.status_code == 200 and index.text == "<html>app</html>"
    assert index.headers["cache-control"] == "no-cache"
    assert (await get(app, "/assets/app.js")).text == "console.log(1)"
    assert (await get(app, "/favicon.ico")).content == b"icon"
    route = await get(app, "/items/some-client-route")
    assert route.status_code == 200 and route.text == "<html>app</html>"


@pytest.mark.parametrize("path", ["/api/v1/unknown", "/metrics", "/docs"])
async def test_api_paths_are_not_swallowed(dist: Path, path: str) -> None:
    app = FastAPI(docs_url=None, redoc_url=None)  # so /docs reaches the fallback route
    add_error_handlers(app)
    mount_frontend(app, dist, ("/api/v1",))
    response = await get(app, path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found", "code": "not_found"}


@pytest.mark.parametrize(
    "path", ["/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"]
)
async def test_no_file_outside_dist(dist: Path, path: str) -> None:
    app = FastAPI()
    mount_frontend(app, dist, ("/api/v1",))
    response = await get(app, path)
    assert "do not serve" not in response.text


async def test_nothing_mounted_without_a_build(tmp_path: Path) -> None:
    app = FastAPI()
    mount_frontend(app, tmp_path / "missing", ("/api/v1",))
    assert (await get(app, "/")).status_code == 404
