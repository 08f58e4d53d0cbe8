"""Rendering the kustomize overlays in deployment/kubernetes/ (Debian's `kubectl`, no cluster)."""

import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.deployment.support import DEPLOYMENT_DIR

KUBERNETES_DIR = DEPLOYMENT_DIR / "kubernetes"
OVERLAYS = ("dev", "production")
KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


def kustomize(directory: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KUBECTL, "kustomize", *flags, str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def parse(rendered: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


@cache
def render(overlay: str) -> tuple[dict[str, Any], ...]:
    """Every object `kubectl kustomize overlays/<overlay>` prints."""
    result = kustomize(KUBERNETES_DIR / "overlays" / overlay)
    assert result.returncode == 0, result.stderr
    return tuple(parse(result.stdout))


def of_kind(objects: tuple[dict[str, Any], ...], kind: str) -> dict[str, dict[str, Any]]:
    """Objects of one kind by name."""
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def one(objects: tuple[dict[str, Any], ...], kind: str, prefix: str) -> dict[str, Any]:
    """The single object of a kind whose name starts with prefix (generated names have a hash)."""
    (match,) = [obj for name, obj in of_kind(objects, kind).items() if name.startswith(prefix)]
    return match


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def workloads(objects: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] in ("Deployment", "Job")]


def env_file(path: Path) -> dict[str, str]:
    """KEY=value lines of a kustomize env file (comments and blank lines skipped)."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values
