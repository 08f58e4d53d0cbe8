"""The optional Prometheus-operator component: the base renders without its CRDs, and with the
component the ServiceMonitor/PodMonitor scrape the API Service and the worker pods with the
token from the production Secret."""

import os
from pathlib import Path

import kubernetes_validate
import pytest

from tests.deployment.kubernetes_support import (
    KUBERNETES_DIR,
    env_file,
    kustomize,
    of_kind,
    parse,
    pod_spec,
    render,
)

COMPONENT = KUBERNETES_DIR / "components" / "servicemonitor"


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, ...]:  # type: ignore[type-arg]
    """production + the component, as the overlay's comment tells users to write it."""
    overlay: Path = tmp_path_factory.mktemp("monitored")
    production = os.path.relpath(KUBERNETES_DIR / "overlays" / "production", overlay)
    component = os.path.relpath(COMPONENT, overlay)
    (overlay / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources: [{production}]\ncomponents: [{component}]\n"
    )
    result = kustomize(overlay, "--load-restrictor=LoadRestrictionsNone")
    assert result.returncode == 0, result.stderr
    return tuple(parse(result.stdout))


def test_component_adds_only_the_monitors(monitored: tuple[dict, ...]) -> None:  # type: ignore[type-arg]
    added = [o for o in monitored if o not in render("production")]
    assert sorted(o["kind"] for o in added) == ["PodMonitor", "ServiceMonitor"]
    for obj in added:
        with pytest.raises(kubernetes_validate.SchemaNotFoundError):
            kubernetes_validate.validate(obj, "1.37.0", strict=True)


def test_monitors_select_the_api_service_and_worker_pods(monitored: tuple[dict, ...]) -> None:  # type: ignore[type-arg]
    service = of_kind(monitored, "Service")["agent-template-api"]
    (monitor,) = of_kind(monitored, "ServiceMonitor").values()
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}
    worker = of_kind(monitored, "Deployment")["agent-template-worker"]
    (pod_monitor,) = of_kind(monitored, "PodMonitor").values()
    labels = worker["spec"]["template"]["metadata"]["labels"]
    assert pod_monitor["spec"]["selector"]["matchLabels"].items() <= labels.items()
    (pod_endpoint,) = pod_monitor["spec"]["podMetricsEndpoints"]
    ports = {port["name"] for port in pod_spec(worker)["containers"][0]["ports"]}
    assert pod_endpoint["port"] in ports
    secret_keys = env_file(KUBERNETES_DIR / "overlays" / "production" / "secrets.env.example")
    for scrape in (endpoint, pod_endpoint):
        assert scrape["path"] == "/metrics"
        credentials = scrape["authorization"]["credentials"]
        assert credentials == {"name": "app-secrets", "key": "METRICS_BEARER_TOKEN"}
        assert credentials["key"] in secret_keys
    (container,) = pod_spec(worker)["containers"]
    assert {"secretRef": {"name": "app-secrets"}} in container["envFrom"]
