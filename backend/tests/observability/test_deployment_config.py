"""deployment/prometheus and deployment/grafana: promtool checks and dashboard consistency."""

import json
import shutil
import subprocess
from pathlib import Path

import yaml

from app.core.config import PROJECT_DIR
from tests.observability.promql import (
    DASHBOARD_PROVIDERS,
    DASHBOARDS,
    DATASOURCES,
    PROMETHEUS_CONFIG,
    RULE_FILES,
    dashboard_expressions,
    panels,
    rules,
    with_bool,
)

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
COMPOSE_TOKEN_PATH = "/run/secrets/metrics_token"
REQUIRED_DASHBOARDS = {
    "Agent Performance Overview",
    "Token Usage and Costs",
    "Errors and Latency Percentiles",
    "Active Executions",
}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROMTOOL, *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_promtool_check_config(tmp_path: Path) -> None:
    """promtool also checks that the scrape token file exists: compose mounts it as a secret
    at /run/secrets/metrics_token, so the check runs on a copy pointing at a stand-in."""
    token = tmp_path / "metrics_token"
    token.write_text("stand-in")
    text = PROMETHEUS_CONFIG.read_text()
    assert COMPOSE_TOKEN_PATH in text
    config = tmp_path / "prometheus.yml"
    config.write_text(text.replace(COMPOSE_TOKEN_PATH, str(token)))
    (tmp_path / "rules").symlink_to(PROMETHEUS_CONFIG.parent / "rules")
    result = promtool("check", "config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_check_rules() -> None:
    assert RULE_FILES
    result = promtool("check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules())} rules found" in result.stdout


def test_alert_rules_cover_the_issue() -> None:
    alerts = {rule["alert"]: rule for rule in rules() if "alert" in rule}
    latency = alerts["AgentRunLatencyP95AboveSLO"]
    assert latency["for"] == "10m" and "agent_latency_slo_seconds" in latency["expr"]
    assert "histogram_quantile(0.95" in latency["expr"]
    errors = alerts["AgentRunErrorRateHigh"]
    assert errors["for"] == "5m" and ">= 0.05" in errors["expr"]
    assert "llm_requests_total" in alerts["LLMErrorSpike"]["expr"]
    assert "2 *" in alerts["AgentCostPerRunAboveBaseline"]["expr"]
    assert "llm_breaker_state) >= 2" in alerts["LLMCircuitBreakerOpen"]["expr"]
    assert "agent_degraded_runs_total" in alerts["AgentDegradedRunRateHigh"]["expr"]
    assert all(
        rule["labels"]["severity"] and rule["annotations"]["summary"] for rule in alerts.values()
    )


def test_with_bool_only_touches_top_level_comparisons() -> None:
    assert with_bool('sum(x{a!="b"}) / sum(y) >= 0.05') == 'sum(x{a!="b"}) / sum(y) >= bool 0.05'
    assert with_bool("a > 1 and b < c") == "a > bool 1 and b < bool c"
    assert with_bool('max(x{le=~"1|2"} > 3)') == 'max(x{le=~"1|2"} > 3)'


def test_dashboards_exist_with_unique_uids_and_titles() -> None:
    loaded = [json.loads(path.read_text()) for path in DASHBOARDS]
    assert {d["title"] for d in loaded} == REQUIRED_DASHBOARDS
    assert len({d["uid"] for d in loaded}) == len(loaded)


def test_every_panel_queries_the_provisioned_datasource() -> None:
    datasources = [
        ds for path in DATASOURCES for ds in yaml.safe_load(path.read_text())["datasources"]
    ]
    assert len(datasources) == 1 and datasources[0]["type"] == "prometheus"
    uid = datasources[0]["uid"]
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        ids = [panel["id"] for panel in panels(dashboard)]
        assert len(ids) == len(set(ids)), path.name
        for panel in panels(dashboard):
            assert panel["datasource"] == {"type": "prometheus", "uid": uid}, panel["title"]
            assert panel["targets"], panel["title"]
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, panel["title"]
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == uid and target["expr"].strip()
    assert len(dashboard_expressions()) >= 30


def test_dashboard_provider_path_matches_the_compose_mount() -> None:
    providers = [
        p for path in DASHBOARD_PROVIDERS for p in yaml.safe_load(path.read_text())["providers"]
    ]
    assert len(providers) == 1
    compose = yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text())
    mounts = [volume.split(":") for volume in compose["services"]["grafana"]["volumes"]]
    targets = {target: source for source, target, *_ in mounts}
    assert targets[providers[0]["options"]["path"]] == "./deployment/grafana/dashboards"
    assert targets["/etc/grafana/provisioning"] == "./deployment/grafana/provisioning"
