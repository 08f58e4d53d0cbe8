"""docker-compose.yml as an operator runs it: images that can be pulled today, replicas,
the metrics token, Alertmanager and ClickHouse's log retention."""

import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deployment.support import DEPLOYMENT_DIR, PROJECT_DIR, compose, services

PROMETHEUS_CONFIG = DEPLOYMENT_DIR / "prometheus" / "prometheus.yml"
# Withdrawn or vulnerable images, and why.
REFUSED_IMAGES = {
    r"^(docker\.io/)?minio/": "minio/minio and minio/mc were removed from Docker Hub (2026-09)",
    r"^(docker\.io/)?grafana/grafana(-oss)?:12\.0\.0$": "Grafana 12.0.0 has CVE-2025-4123",
    r"^node:20": "Node 20 reached end of life in April 2026",
}


def _image_tag(image: str) -> str:
    return image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""


@pytest.mark.parametrize("name", sorted(services()))
def test_every_image_is_pinned_to_a_tag_and_not_withdrawn(name: str) -> None:
    image = services()[name]["image"]
    tag = _image_tag(image)
    if "build" not in services()[name]:
        assert tag and tag != "latest", f"{name}: {image} is not pinned to a tag"
    for pattern, why in REFUSED_IMAGES.items():
        assert not re.search(pattern, image), f"{name}: {image}: {why}"


def test_grafana_is_a_patched_12x() -> None:
    tag = _image_tag(services()["grafana"]["image"])
    version = tuple(int(part) for part in tag.split("."))
    assert version[0] == 12 and version > (12, 0, 0), tag


def test_s3_store_has_a_health_check_its_image_can_run() -> None:
    """The quay.io MinIO image ships `mc`; `mc ready local` asks the server itself."""
    minio = services()["minio"]
    assert minio["image"].startswith("quay.io/minio/minio:RELEASE.")
    assert minio["healthcheck"]["test"] == ["CMD", "mc", "ready", "local"]
    langfuse_env = compose()["x-langfuse-environment"]
    assert langfuse_env["LANGFUSE_S3_EVENT_UPLOAD_ENDPOINT"] == "http://minio:9000"


@pytest.mark.parametrize("name", ["backend", "worker"])
def test_backend_and_worker_scale_without_clashes(name: str) -> None:
    """`docker compose up --scale backend=N --scale worker=M`: no fixed container name, and a
    published port is a range with room for replicas (or nothing is published)."""
    service = services()[name]
    assert "container_name" not in service
    for spec in service.get("ports", []):
        host = str(spec).rsplit(":", 1)[0]
        first, _, last = host.rpartition(":")[2].partition("-")
        assert last and int(last) - int(first) >= 3, f"{name}: fixed host port {spec}"


def test_no_service_has_a_fixed_container_name() -> None:
    assert not [name for name, s in services().items() if "container_name" in s]


def test_metrics_token_is_required_and_handed_to_prometheus() -> None:
    """Compose refuses to start without METRICS_BEARER_TOKEN, gives it to every backend and
    worker, and Prometheus sends it from the secret file on every scrape job of the app."""
    environment = compose()["x-backend-environment"]
    assert environment["METRICS_BEARER_TOKEN"].startswith("${METRICS_BEARER_TOKEN:?")
    for name in ("backend", "worker", "prestart"):
        assert "METRICS_BEARER_TOKEN" in services()[name]["environment"]
    assert compose()["secrets"]["metrics_token"] == {"environment": "METRICS_BEARER_TOKEN"}
    assert "metrics_token" in services()["prometheus"]["secrets"]
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    for job in config["scrape_configs"]:
        if job["job_name"] in ("backend", "worker"):
            auth = job["authorization"]
            assert auth == {"type": "Bearer", "credentials_file": "/run/secrets/metrics_token"}


def test_metrics_token_is_generated_by_the_secrets_script() -> None:
    script = (PROJECT_DIR / "scripts" / "generate-secrets.sh").read_text()
    assert re.search(r"^\s*METRICS_BEARER_TOKEN:hex\d+$", script, re.MULTILINE)


def test_prometheus_sends_alerts_to_the_alertmanager_service() -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    targets = [
        target
        for manager in config["alerting"]["alertmanagers"]
        for static in manager["static_configs"]
        for target in static["targets"]
    ]
    assert targets == ["alertmanager:9093"]
    alertmanager = services()["alertmanager"]
    assert "--config.file=/etc/alertmanager/alertmanager.yml" in alertmanager["command"]
    assert "./deployment/alertmanager:/etc/alertmanager:ro" in alertmanager["volumes"]
    assert alertmanager["ports"] == ["127.0.0.1:9093:9093"], "no authentication: loopback only"
    assert "/-/ready" in " ".join(alertmanager["healthcheck"]["test"])
    assert services()["prometheus"]["depends_on"]["alertmanager"]["condition"] == "service_healthy"


def _clickhouse_mount() -> tuple[Path, str]:
    for volume in services()["clickhouse"]["volumes"]:
        source, target, *_ = volume.split(":")
        if source.startswith("./deployment/clickhouse"):
            return PROJECT_DIR / source, target
    raise AssertionError("no ClickHouse config mounted")


# The date column each system log table is partitioned by (ClickHouse's own schema).
SYSTEM_LOG_DATE_COLUMNS = {"opentelemetry_span_log": "finish_date"}
# Named by Langfuse's guide as the tables that grow without a TTL.
LANGFUSE_NAMED_TABLES = {
    "trace_log",
    "text_log",
    "opentelemetry_span_log",
    "asynchronous_metric_log",
    "metric_log",
    "latency_log",
}


def test_clickhouse_system_logs_have_ttls() -> None:
    """The mounted config.d file is well-formed XML with a DELETE TTL on the tables Langfuse
    names, each on that table's own date column."""

    source, target = _clickhouse_mount()
    assert target == f"/etc/clickhouse-server/config.d/{source.name}"
    root = ElementTree.parse(source).getroot()
    assert root.tag == "clickhouse"
    ttls: dict[str, Any] = {table.tag: table.findtext("ttl") for table in root}
    assert set(ttls) >= LANGFUSE_NAMED_TABLES | {"query_log"}
    for table, ttl in ttls.items():
        column = SYSTEM_LOG_DATE_COLUMNS.get(table, "event_date")
        assert re.fullmatch(rf"{column} \+ INTERVAL \d+ DAY DELETE", ttl or ""), (table, ttl)


def test_the_xml_check_rejects_a_broken_file(tmp_path: Path) -> None:
    """Control: the parser used above fails on an unclosed element."""

    broken = tmp_path / "broken.xml"
    broken.write_text("<clickhouse><query_log><ttl>x</ttl></clickhouse>")
    with pytest.raises(ElementTree.ParseError):
        ElementTree.parse(broken)
