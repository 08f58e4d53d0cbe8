"""docker-compose.yml: valid against the Compose specification, and consistent with itself,
the repository and the pinned Langfuse SDK (no Docker engine needed)."""

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deployment.support import (
    BACKEND_DIR,
    COMPOSE_FILE,
    PROJECT_DIR,
    VENV_BIN,
    compose,
    depends_on,
    services,
)

# Python SDK major -> the self-hosted Langfuse server image major it works with
# (SDK 5.x needs server >= 4.59; a v3 server needs SDK 4.x). Bump both together.
LANGFUSE_SDK_TO_SERVER_MAJOR = {4: "3", 5: "4"}
SEED_PORTS = {
    "backend": 8000,
    "langfuse": 3001,
    "grafana": 3002,
    "prometheus": 9090,
    "frontend": 5173,
}


def _check_compose_spec(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_compose_file_matches_the_compose_specification() -> None:
    result = _check_compose_spec(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_an_invalid_file(tmp_path: Path) -> None:
    """Control: the same check fails on a service with a misspelt key."""
    backend = {**services()["backend"], "healthchek": {}}
    broken = compose() | {"services": {**services(), "backend": backend}}
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    result = _check_compose_spec(path)
    assert result.returncode != 0
    assert "healthchek" in result.stdout + result.stderr


def test_every_service_has_a_healthcheck_or_a_reason() -> None:
    lacking = [
        name
        for name, service in services().items()
        if not (service.get("healthcheck") or {}).get("test")
        and not str(service.get("x-healthcheck-reason", "")).strip()
    ]
    assert not lacking, f"services without healthcheck or x-healthcheck-reason: {lacking}"


def test_one_shot_services_are_awaited_by_a_long_running_service() -> None:
    """`docker compose up --wait` exits 1 for a one-shot container nobody waits for."""
    one_shot = {name for name, s in services().items() if s.get("restart") == "no"}
    assert "prestart" in one_shot
    adopted = {
        dep
        for service in services().values()
        if service.get("restart") != "no"
        for dep, spec in depends_on(service).items()
        if spec.get("condition") == "service_completed_successfully"
    }
    assert one_shot <= adopted, f"one-shot services nobody waits for: {one_shot - adopted}"


def _closure(name: str) -> set[str]:
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        for dep in depends_on(services()[current]):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def test_seed_command_brings_up_the_whole_langfuse_stack() -> None:
    """`docker compose up -d --wait backend redis postgres langfuse` names real services and
    `langfuse` pulls in its worker and stores through depends_on."""
    for name in ("backend", "redis", "postgres", "langfuse"):
        assert name in services(), name
        assert not services()[name].get("profiles"), f"{name} must be in the default profile"
    assert {"langfuse-worker", "clickhouse", "minio", "postgres", "redis"} <= _closure("langfuse")
    assert {"prestart", "postgres", "redis"} <= _closure("backend")


def test_dependencies_exist_and_stay_in_the_default_profile() -> None:
    for name, service in services().items():
        for dep in depends_on(service):
            assert dep in services(), f"{name} depends on unknown service {dep}"
            if not service.get("profiles"):
                assert not services()[dep].get("profiles"), f"{name} -> profiled service {dep}"


def _published_ports(service: str) -> set[int]:
    """Host ports a service publishes (every port of a `8000-8009:8000` range)."""
    ports: set[int] = set()
    for spec in services()[service].get("ports", []):
        host = str(spec).rsplit(":", 2)[-2] if str(spec).count(":") else ""
        if host:
            first, _, last = host.partition("-")
            ports |= set(range(int(first), int(last or first) + 1))
    return ports


def test_seed_ports_are_published() -> None:
    for name, port in SEED_PORTS.items():
        published = _published_ports(name)
        assert port in published, f"{name} should publish :{port}, has {published}"


def test_only_frontend_dev_server_is_in_a_profile() -> None:
    profiled = {name: s["profiles"] for name, s in services().items() if s.get("profiles")}
    assert profiled == {"frontend": ["dev"]}


def test_langfuse_images_pair_with_the_locked_sdk() -> None:
    lock = tomllib.loads((BACKEND_DIR / "uv.lock").read_text())
    sdk = next(p["version"] for p in lock["package"] if p["name"] == "langfuse")
    server_major = LANGFUSE_SDK_TO_SERVER_MAJOR[int(sdk.split(".")[0])]
    for name in ("langfuse", "langfuse-worker"):
        tag = services()[name]["image"].rsplit(":", 1)[1]
        assert tag.split(".")[0] == server_major, f"{name}: {tag} vs SDK {sdk}"
    assert services()["langfuse"]["image"].startswith("langfuse/langfuse:")
    assert services()["langfuse-worker"]["image"].startswith("langfuse/langfuse-worker:")


def test_clickhouse_is_new_enough_for_langfuse_v4() -> None:
    tag = services()["clickhouse"]["image"].rsplit(":", 1)[1]
    assert tuple(int(part) for part in tag.split(".")[:2]) >= (25, 12)


def test_third_party_images_are_pinned() -> None:
    for name, service in services().items():
        if "build" in service:
            continue
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: unpinned {image}"


def test_backend_and_prestart_share_one_image_built_from_the_dockerfile() -> None:
    backend, prestart = services()["backend"], services()["prestart"]
    assert backend["image"] == prestart["image"]
    assert backend["build"] == prestart["build"]
    assert (PROJECT_DIR / backend["build"]["context"] / backend["build"]["dockerfile"]).is_file()
    assert prestart["command"] == ["python", "-m", "app.prestart"]
    assert backend["environment"]["RUN_PRESTART"] == "false"


def test_worker_runs_the_worker_command_from_the_backend_image() -> None:
    backend, worker = services()["backend"], services()["worker"]
    assert worker["image"] == backend["image"] and worker["build"] == backend["build"]
    assert worker["command"] == ["python", "-m", "app.worker"]
    assert {"redis", "postgres", "prestart"} <= set(worker["depends_on"])
    assert worker["environment"]["REDIS_URL"] == backend["environment"]["REDIS_URL"]


def test_watch_syncs_code_and_rebuilds_on_lock_changes() -> None:
    watch = services()["backend"]["develop"]["watch"]
    actions = {rule["path"]: rule["action"] for rule in watch}
    assert actions["./backend/app"] in ("sync", "sync+restart")
    assert actions["./backend/uv.lock"] == "rebuild"
    for rule in watch:
        assert (PROJECT_DIR / rule["path"]).exists(), rule["path"]


def _bind_mounts() -> list[tuple[str, str, str]]:
    mounts = []
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source.startswith("."):
                mounts.append((name, source, target))
    return mounts


@pytest.mark.parametrize(("service", "source", "target"), _bind_mounts())
def test_bind_mount_sources_exist(service: str, source: str, target: str) -> None:
    assert (PROJECT_DIR / source).exists(), f"{service} mounts missing {source} at {target}"


def _mount_target(service: str, source: str) -> str:
    return next(t for s, src, t in _bind_mounts() if s == service and src == source)


def test_prometheus_config_fits_the_compose_network() -> None:
    """The mounted prometheus.yml finds every backend and worker replica by DNS (type A: one
    record per container) and loads rules from its mount."""
    config = yaml.safe_load((PROJECT_DIR / "deployment/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for service, port in (("backend", 8000), ("worker", 9464)):
        (discovery,) = jobs[service]["dns_sd_configs"]
        assert discovery == discovery | {"names": [service], "type": "A", "port": port}
        assert service in services() and "container_name" not in services()[service]
    assert services()["worker"]["environment"]["WORKER_METRICS_PORT"] == "9464"
    assert _mount_target("prometheus", "./deployment/prometheus") == "/etc/prometheus"
    command = services()["prometheus"]["command"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in command
    rule_globs = config.get("rule_files", [])
    assert rule_globs, "prometheus.yml loads no alert rules"
    for pattern in rule_globs:
        local = PROJECT_DIR / "deployment/prometheus" / pattern.removeprefix("/etc/prometheus/")
        assert list(local.parent.glob(local.name)), f"rule_files {pattern} matches nothing"


def test_grafana_provisioning_fits_the_compose_mounts() -> None:
    """Dashboard providers read from where compose mounts the dashboards, and the datasource
    points at the prometheus service."""
    dashboards_target = _mount_target("grafana", "./deployment/grafana/dashboards")
    provisioning_target = _mount_target("grafana", "./deployment/grafana/provisioning")
    assert provisioning_target == "/etc/grafana/provisioning"
    providers_dir = PROJECT_DIR / "deployment/grafana/provisioning/dashboards"
    paths = [
        provider["options"]["path"]
        for file in sorted(providers_dir.glob("*.y*ml"))
        for provider in yaml.safe_load(file.read_text()).get("providers", [])
    ]
    assert paths, "no Grafana dashboard provider"
    for path in paths:
        assert path.rstrip("/").startswith(dashboards_target), path
    datasources_dir = PROJECT_DIR / "deployment/grafana/provisioning/datasources"
    urls = [
        source.get("url", "")
        for file in sorted(datasources_dir.glob("*.y*ml"))
        for source in yaml.safe_load(file.read_text()).get("datasources", [])
        if source.get("type") == "prometheus"
    ]
    assert urls and all(re.fullmatch(r"http://prometheus:9090/?", url) for url in urls), urls


def test_postgres_healthcheck_escapes_container_variables() -> None:
    """`$$` reaches the container as `$`; a single `$` would be interpolated by compose."""
    raw = COMPOSE_FILE.read_text()
    assert "$${POSTGRES_USER}" in raw
    test: Any = services()["postgres"]["healthcheck"]["test"]
    assert "pg_isready" in " ".join(test)
