"""deployment/kubernetes/: both overlays render with `kubectl kustomize`, every object validates
against the Kubernetes schemas (kubernetes-validate, offline), and the manifests agree with the
app and with docker-compose.yml (image, commands, settings, ports, probes, selectors)."""

import copy
import secrets
from typing import Any

import kubernetes_validate
import pytest
from pydantic import ValidationError

from app.core.config import Settings
from tests.deployment.kubernetes_support import (
    KUBERNETES_DIR,
    OVERLAYS,
    env_file,
    of_kind,
    one,
    pod_spec,
    render,
    workloads,
)
from tests.deployment.support import services

# The oldest Kubernetes minor still supported by the major cloud providers, and the newest the
# package ships schemas for.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
SECRET_KEYS = {"SECRET_KEY", "FIRST_SUPERUSER_PASSWORD", "DATABASE_URL", "REDIS_URL"}
SECRET_KEYS |= {"METRICS_BEARER_TOKEN", "LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY"}
# ConfigMap keys that aren't Settings fields, and who reads them.
READ_ELSEWHERE = {
    "RUN_PRESTART": "scripts/serve-production.sh (the image's command)",
    "WEB_CONCURRENCY": "scripts/serve_production.py (uvicorn workers)",
}
HEALTH_CHECK = "/api/v1/utils/health-check/"
PRODUCTION_SECRETS = KUBERNETES_DIR / "overlays" / "production" / "secrets.env.example"
DEV_SECRETS = KUBERNETES_DIR / "overlays" / "dev" / "secrets.env"


def _secret_values(overlay: str) -> dict[str, str]:
    """The Secret's keys: generated in dev, created outside git in production."""
    return env_file(DEV_SECRETS if overlay == "dev" else PRODUCTION_SECRETS)


def _config(overlay: str) -> dict[str, str]:
    data: dict[str, str] = one(render(overlay), "ConfigMap", "app-config-")["data"]
    return data


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_rendered_object_validates(overlay: str, version: str) -> None:
    objects = render(overlay)
    assert objects
    for obj in objects:
        kubernetes_validate.validate(obj, version, strict=True)


def test_validation_rejects_a_misspelt_field() -> None:
    """Control: strict validation fails on a probe key in the wrong case."""
    deployment = copy.deepcopy(of_kind(render("production"), "Deployment")["agent-template-api"])
    pod_spec(deployment)["containers"][0]["readinessprobe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_has_every_piece(overlay: str) -> None:
    objects = render(overlay)
    assert set(of_kind(objects, "Deployment")) == {"agent-template-api", "agent-template-worker"}
    assert set(of_kind(objects, "Job")) == {"agent-template-migrate"}
    assert set(of_kind(objects, "Service")) == {"agent-template-api"}
    assert set(of_kind(objects, "HorizontalPodAutoscaler")) == set(of_kind(objects, "Deployment"))
    assert set(of_kind(objects, "PodDisruptionBudget")) == set(of_kind(objects, "Deployment"))
    assert len(of_kind(objects, "Namespace")) == 1
    namespace = next(iter(of_kind(objects, "Namespace")))
    assert all(
        o["metadata"].get("namespace") == namespace for o in objects if o["kind"] != "Namespace"
    )
    assert not [o for o in objects if o["apiVersion"].startswith("monitoring.coreos.com")]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_images_are_the_compose_backend_image_at_a_pinned_tag(overlay: str) -> None:
    compose_name = services()["backend"]["image"].split(":")[0]
    images = {
        container["image"]
        for workload in workloads(render(overlay))
        for container in pod_spec(workload)["containers"]
    }
    assert len(images) == 1, images
    (image,) = images
    name, _, tag = image.rpartition(":")
    assert name.rsplit("/", 1)[-1] == compose_name, image
    assert tag and tag != "latest" and "/" not in tag, image


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_commands_match_compose(overlay: str) -> None:
    objects = render(overlay)
    deployments = of_kind(objects, "Deployment")
    worker = pod_spec(deployments["agent-template-worker"])["containers"][0]
    assert worker["command"] == services()["worker"]["command"]
    job = pod_spec(of_kind(objects, "Job")["agent-template-migrate"])
    assert job["containers"][0]["command"] == services()["prestart"]["command"]
    assert job["restartPolicy"] == "Never"
    api = pod_spec(deployments["agent-template-api"])["containers"][0]
    assert "command" not in api, "the API runs the image's own command (serve-production.sh)"
    assert _config(overlay)["RUN_PRESTART"] == services()["backend"]["environment"]["RUN_PRESTART"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_workload_reads_the_config_map_and_the_secret(overlay: str) -> None:
    objects = render(overlay)
    config_map = one(objects, "ConfigMap", "app-config-")["metadata"]["name"]
    secret_names = {s["metadata"]["name"] for s in of_kind(objects, "Secret").values()}
    for workload in workloads(objects):
        (container,) = pod_spec(workload)["containers"]
        refs = {next(iter(ref)): next(iter(ref.values()))["name"] for ref in container["envFrom"]}
        assert refs["configMapRef"] == config_map
        if overlay == "dev":
            assert refs["secretRef"] in secret_names, "generated from secrets.env"
        else:
            assert refs["secretRef"] == "app-secrets" and not secret_names, "created outside git"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_config_and_secret_keys_are_settings_and_secrets_stay_secret(overlay: str) -> None:
    config, secret = _config(overlay), _secret_values(overlay)
    known = set(Settings.model_fields) | set(READ_ELSEWHERE)
    assert not set(config) - known, f"unknown ConfigMap keys: {set(config) - known}"
    assert not set(secret) - known, f"unknown Secret keys: {set(secret) - known}"
    assert SECRET_KEYS <= set(secret), SECRET_KEYS - set(secret)
    secret_like = [
        k for k in config if any(w in k for w in ("PASSWORD", "SECRET", "TOKEN", "_KEY"))
    ]
    assert not secret_like, f"secrets in the ConfigMap: {secret_like}"
    assert config["APP_ENV"] == "production"
    assert config["AGENT_INPROCESS_WORKER"] == "false", "runs execute in the worker Deployment"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_settings_accept_the_config_once_secrets_are_filled(overlay: str) -> None:
    """The ConfigMap plus the Secret's keys with real values pass the production checks."""
    values: dict[str, Any] = {
        k: v for k, v in _config(overlay).items() if k in Settings.model_fields
    }
    for key, value in _secret_values(overlay).items():
        values[key] = value.replace("CHANGEME", secrets.token_hex(16))
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    assert settings.APP_ENV == "production" and settings.redis_url
    assert settings.WORKER_METRICS_PORT == 9464


@pytest.mark.parametrize("path", [DEV_SECRETS, PRODUCTION_SECRETS])
def test_committed_secret_files_hold_placeholders_the_app_refuses(path: Any) -> None:
    values = env_file(path)
    assert all("CHANGEME" in value for value in values.values()), values
    config = {k: v for k, v in _config("production").items() if k in Settings.model_fields}
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None, **config, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ports_and_probes_line_up(overlay: str) -> None:
    objects = render(overlay)
    deployments = of_kind(objects, "Deployment")
    (api,) = pod_spec(deployments["agent-template-api"])["containers"]
    api_ports = {port["name"]: port["containerPort"] for port in api["ports"]}
    assert api_ports == {"http": 8000}, "the image's PORT"
    (service_port,) = of_kind(objects, "Service")["agent-template-api"]["spec"]["ports"]
    assert service_port["targetPort"] in api_ports
    for probe in ("readinessProbe", "startupProbe"):
        assert api[probe]["httpGet"] == {"path": HEALTH_CHECK, "port": "http"}, probe
    assert api["livenessProbe"]["httpGet"]["port"] == "http"
    (worker,) = pod_spec(deployments["agent-template-worker"])["containers"]
    worker_ports = {port["name"]: port["containerPort"] for port in worker["ports"]}
    assert worker_ports == {"metrics": int(_config(overlay)["WORKER_METRICS_PORT"])}
    assert worker["livenessProbe"]["tcpSocket"]["port"] == "metrics"
    assert services()["worker"]["environment"]["WORKER_METRICS_PORT"] == str(
        worker_ports["metrics"]
    )


def test_probe_paths_are_routes_of_the_app() -> None:
    from app.main import app

    paths = set(app.openapi()["paths"])
    api = pod_spec(of_kind(render("production"), "Deployment")["agent-template-api"])
    for probe in ("readinessProbe", "startupProbe", "livenessProbe"):
        assert api["containers"][0][probe]["httpGet"]["path"] in paths, probe
    assert HEALTH_CHECK in paths


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_selectors_find_their_pods(overlay: str) -> None:
    objects = render(overlay)
    deployments = of_kind(objects, "Deployment")
    labels = {name: d["spec"]["template"]["metadata"]["labels"] for name, d in deployments.items()}

    def selects(selector: dict[str, str]) -> set[str]:
        return {name for name, pod in labels.items() if selector.items() <= pod.items()}

    for name, deployment in deployments.items():
        assert selects(deployment["spec"]["selector"]["matchLabels"]) == {name}
    service = of_kind(objects, "Service")["agent-template-api"]
    assert selects(service["spec"]["selector"]) == {"agent-template-api"}
    for name, budget in of_kind(objects, "PodDisruptionBudget").items():
        assert selects(budget["spec"]["selector"]["matchLabels"]) == {name}
    for name, autoscaler in of_kind(objects, "HorizontalPodAutoscaler").items():
        target = autoscaler["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)
        assert 1 <= autoscaler["spec"]["minReplicas"] <= autoscaler["spec"]["maxReplicas"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_serves_the_service_over_tls(overlay: str) -> None:
    objects = render(overlay)
    (ingress,) = of_kind(objects, "Ingress").values()
    (tls,) = ingress["spec"]["tls"]
    assert tls["secretName"]
    (rule,) = ingress["spec"]["rules"]
    assert tls["hosts"] == [rule["host"]]
    assert _config(overlay)["FRONTEND_HOST"] == f"https://{rule['host']}"
    (path,) = rule["http"]["paths"]
    backend = path["backend"]["service"]
    service = of_kind(objects, "Service")[backend["name"]]
    assert backend["port"]["name"] in {port["name"] for port in service["spec"]["ports"]}
    assert (
        ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    )


def test_production_runs_at_least_two_of_each() -> None:
    for autoscaler in of_kind(render("production"), "HorizontalPodAutoscaler").values():
        assert autoscaler["spec"]["minReplicas"] >= 2
    (ingress,) = of_kind(render("production"), "Ingress").values()
    assert "cert-manager.io/cluster-issuer" in ingress["metadata"]["annotations"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_run_unprivileged(overlay: str) -> None:
    for workload in workloads(render(overlay)):
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["automountServiceAccountToken"] is False
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["readOnlyRootFilesystem"] is True
            mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
            assert {"/tmp", "/tmp/prometheus-multiproc", "/app/data"} <= mounts
