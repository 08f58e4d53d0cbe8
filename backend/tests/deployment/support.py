"""Shared helpers for the deployment checks: project paths, the compose file, `.env` parsing."""

import re
import sys
from functools import cache
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[3]
BACKEND_DIR = PROJECT_DIR / "backend"
COMPOSE_FILE = PROJECT_DIR / "docker-compose.yml"
ENV_EXAMPLE = PROJECT_DIR / ".env.example"
DEPLOYMENT_DIR = PROJECT_DIR / "deployment"
SCRIPTS_DIR = PROJECT_DIR / "scripts"
VENV_BIN = Path(sys.executable).parent

# `${NAME}`, `${NAME:-default}`, `${NAME:?err}`, `$NAME`, nested `${A:-${B}}`; `$$` is an escaped
# literal dollar (expanded by the container's shell, not by compose) and is removed first.
_INTERPOLATION = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


@cache
def compose() -> dict[str, Any]:
    """docker-compose.yml, parsed."""
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def services() -> dict[str, dict[str, Any]]:
    """The compose services by name."""
    result = compose()["services"]
    assert isinstance(result, dict)
    return result


def compose_variables(node: Any) -> set[str]:
    """Every variable interpolated in a parsed compose file's keys and values (not comments)."""
    if isinstance(node, dict):
        return set().union(*(compose_variables(k) | compose_variables(v) for k, v in node.items()))
    if isinstance(node, list):
        return set().union(*(compose_variables(item) for item in node))
    if isinstance(node, str):
        return {match.group(1) for match in _INTERPOLATION.finditer(node.replace("$$", ""))}
    return set()


def dotenv_keys(path: Path) -> list[str]:
    """Variable names assigned in a dotenv file, in order (duplicates kept)."""
    keys = []
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key = stripped.removeprefix("export ").split("=", 1)[0].strip()
        keys.append(key)
    return keys


def depends_on(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A service's depends_on in long form."""
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return {name: {"condition": "service_started"} for name in raw}
    return {name: (spec or {"condition": "service_started"}) for name, spec in raw.items()}
