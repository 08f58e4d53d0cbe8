"""Serve the built frontend from the API's port, with index.html for client-side routes."""

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles


def mount_frontend(app: FastAPI, dist_dir: Path, api_prefixes: tuple[str, ...]) -> None:
    """Mount `dist_dir` at `/`; unknown non-API paths fall back to index.html."""
    index = dist_dir / "index.html"
    if not index.is_file():
        return
    if (dist_dir / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=dist_dir / "assets"), name="assets")
    root = dist_dir.resolve()

    @app.get("/{path:path}", include_in_schema=False)
    async def spa(path: str) -> Response:
        if path.startswith(tuple(p.strip("/") for p in api_prefixes)) or path in (
            "metrics",
            "docs",
            "redoc",
        ):
            raise HTTPException(status_code=404, detail="Not Found")
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            return FileResponse(candidate)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
