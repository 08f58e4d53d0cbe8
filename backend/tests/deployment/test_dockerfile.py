"""backend/Dockerfile: hadolint-clean, multi-stage, locked deps, non-root, healthcheck, and every
COPY source present in the build context."""

import re
import subprocess
from pathlib import Path

import pytest

from tests.deployment.dockerignore import DockerIgnore
from tests.deployment.support import PROJECT_DIR, VENV_BIN, services

DOCKERFILE = PROJECT_DIR / "backend" / "Dockerfile"
HADOLINT_CONFIG = PROJECT_DIR / ".hadolint.yaml"


def _hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "hadolint"), "--no-color", "-c", str(HADOLINT_CONFIG), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def test_hadolint_passes() -> None:
    result = _hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_problems(tmp_path: Path) -> None:
    """Control: the same invocation fails on an untagged base image and a root user."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN pip install fastapi\nUSER root\n")
    result = _hadolint(bad)
    assert result.returncode != 0
    assert "DL3006" in result.stdout


def test_frontend_is_built_in_a_node_22_lts_stage() -> None:
    """Node 22 is the active LTS line (Node 20 reached end of life in April 2026)."""
    instructions = _instructions()
    froms = [args for keyword, args in instructions if keyword == "FROM"]
    assert re.match(r"node:22\S* AS frontend", froms[0], re.IGNORECASE), froms
    runs = [args for keyword, args in instructions if keyword == "RUN"]
    assert any("npm ci" in run for run in runs)
    assert any("npm run build" in run for run in runs)
    copies = [args for keyword, args in instructions if keyword == "COPY"]
    assert any(c.startswith("--from=frontend /frontend/dist ") for c in copies), copies


def test_python_deps_come_from_the_lock_file() -> None:
    runs = [args for keyword, args in _instructions() if keyword == "RUN"]
    syncs = [run for run in runs if "uv sync" in run]
    assert syncs and all("--frozen" in run and "--no-dev" in run for run in syncs), syncs


def test_runs_as_non_root_with_a_healthcheck() -> None:
    instructions = _instructions()
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    healthchecks = [args for keyword, args in instructions if keyword == "HEALTHCHECK"]
    assert healthchecks and "/api/v1/utils/health-check/" in healthchecks[-1]
    cmd = [args for keyword, args in instructions if keyword == "CMD"][-1]
    assert "serve-production.sh" in cmd


def _context_sources() -> list[str]:
    sources = []
    for keyword, args in _instructions():
        if keyword != "COPY" or "--from=" in args:
            continue
        paths = [part for part in args.split() if not part.startswith("--")]
        sources += paths[:-1]
    bind_mounts = re.findall(r"--mount=type=bind,source=([^,\s]+)", DOCKERFILE.read_text())
    return sources + bind_mounts


@pytest.mark.parametrize("source", _context_sources())
def test_copied_sources_are_in_the_build_context(source: str) -> None:
    context = PROJECT_DIR / services()["backend"]["build"]["context"]
    assert (context / source).exists(), f"{source} is not in the repository"
    assert not DockerIgnore(PROJECT_DIR / ".dockerignore").excluded(source), (
        f"{source} is excluded by .dockerignore"
    )


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        (".env", True),
        ("backend/.env.production", True),
        ("backend/.venv/bin/python", True),
        ("frontend/node_modules/react/index.js", True),
        ("backend/app/__pycache__/main.cpython-311.pyc", True),
        (".git/HEAD", True),
        ("backend/tests/conftest.py", True),
        ("backend/data/app.db", True),
        (".env.example", False),
        ("backend/app/main.py", False),
        ("backend/uv.lock", False),
        ("backend/alembic.ini", False),
        ("frontend/src/main.tsx", False),
        ("scripts/serve-production.sh", False),
    ],
)
def test_dockerignore_keeps_secrets_and_host_state_out(path: str, excluded: bool) -> None:
    assert DockerIgnore(PROJECT_DIR / ".dockerignore").excluded(path) is excluded
