"""Declared dependencies: no FastAPI Cloud CLI in the image, imports declared, nothing unused,
and the Node versions the Dockerfile, compose and package.json agree on."""

import ast
import json
import re
import tomllib

from tests.deployment.support import BACKEND_DIR, PROJECT_DIR, services

PYPROJECT = tomllib.loads((BACKEND_DIR / "pyproject.toml").read_text())
LOCK = tomllib.loads((BACKEND_DIR / "uv.lock").read_text())
PACKAGE_JSON = json.loads((PROJECT_DIR / "frontend" / "package.json").read_text())


def _declared() -> dict[str, str]:
    """Runtime requirement name (lower case, no extras or bounds) -> the full requirement."""
    result = {}
    for requirement in PYPROJECT["project"]["dependencies"]:
        name = re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()
        result[name] = requirement
    return result


def _app_imports() -> set[str]:
    """Top-level module names imported anywhere under backend/app."""
    names: set[str] = set()
    for path in (BACKEND_DIR / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names


def test_fastapi_without_the_cloud_cli() -> None:
    """`standard` pulls fastapi-cloud-cli (and Sentry) into the production image."""
    assert "fastapi[standard-no-fastapi-cloud-cli]" in _declared()["fastapi"]
    locked = {package["name"] for package in LOCK["package"]}
    assert "fastapi-cloud-cli" not in locked
    assert "fastapi" in locked


def test_imported_dotenv_is_declared_and_unused_jinja2_is_not() -> None:
    imports = _app_imports()
    assert "dotenv" in imports and "python-dotenv" in _declared()
    assert "jinja2" not in imports and "jinja2" not in _declared()


def test_highlight_js_is_not_a_direct_frontend_dependency() -> None:
    """Code highlighting comes through rehype-highlight (lowlight brings its own highlight.js)."""
    sources = [
        *(PROJECT_DIR / "frontend" / "src").rglob("*.ts"),
        *(PROJECT_DIR / "frontend" / "src").rglob("*.tsx"),
    ]
    importing = [p for p in sources if re.search(r"from ['\"]highlight\.js", p.read_text())]
    assert not importing
    assert "highlight.js" not in PACKAGE_JSON["dependencies"]
    assert "rehype-highlight" in PACKAGE_JSON["dependencies"]


def test_node_22_in_images_while_engines_accept_debians_node_20() -> None:
    assert PACKAGE_JSON["engines"]["node"] == ">=20.19"
    assert re.match(r"node:22-", services()["frontend"]["image"])
    dockerfile = (BACKEND_DIR / "Dockerfile").read_text()
    assert re.search(r"^FROM node:22-\S+ AS frontend$", dockerfile, re.MULTILINE)
    assert "20.19" in (PROJECT_DIR / "scripts" / "lib.sh").read_text()
