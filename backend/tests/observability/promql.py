"""The PromQL expressions of deployment/: Grafana dashboards and Prometheus alert rules."""

import json
from dataclasses import dataclass
from typing import Any

import yaml

from app.core.config import PROJECT_DIR

DEPLOYMENT = PROJECT_DIR / "deployment"
PROMETHEUS_CONFIG = DEPLOYMENT / "prometheus" / "prometheus.yml"
RULE_FILES = sorted((DEPLOYMENT / "prometheus" / "rules").glob("*.yml"))
DASHBOARDS = sorted((DEPLOYMENT / "grafana" / "dashboards").glob("*.json"))
DATASOURCES = sorted((DEPLOYMENT / "grafana" / "provisioning" / "datasources").glob("*.yml"))
DASHBOARD_PROVIDERS = sorted((DEPLOYMENT / "grafana" / "provisioning" / "dashboards").glob("*.yml"))

# What Grafana substitutes before sending a query; windows chosen for a 1 s scrape interval.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "5m", "$__interval": "1s"}
_COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")


@dataclass(frozen=True)
class Expression:
    """One PromQL expression and where it comes from."""

    source: str
    promql: str


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, including those nested in rows."""
    found = []
    for panel in dashboard.get("panels", []):
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def dashboard_expressions() -> list[Expression]:
    """Every target expression of every dashboard, with Grafana's variables substituted."""
    expressions = []
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                promql = target["expr"]
                for variable, replacement in GRAFANA_VARIABLES.items():
                    promql = promql.replace(variable, replacement)
                source = f"{dashboard['title']} / {panel['title']} / {target['refId']}"
                expressions.append(Expression(source, promql))
    return expressions


def rules() -> list[dict[str, Any]]:
    """Every rule of every rule file."""
    found = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            found.extend(group["rules"])
    return found


def with_bool(promql: str) -> str:
    """Add `bool` to the top-level comparisons, so an alert expression returns its series
    whether or not the alert would fire (0 or 1 instead of an empty result)."""
    out: list[str] = []
    depth, index, quote = 0, 0, ""
    while index < len(promql):
        char = promql[index]
        if quote:
            if char == quote and promql[index - 1] != "\\":
                quote = ""
        elif char in "\"'`":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0:
            operator = next((op for op in _COMPARISONS if promql.startswith(op, index)), None)
            if operator is not None:
                out.append(f"{operator} bool")
                index += len(operator)
                continue
        out.append(char)
        index += 1
    return "".join(out)


def rule_expressions() -> list[Expression]:
    """Recording rules as they are, alert rules with `bool` comparisons."""
    expressions = []
    for rule in rules():
        if "alert" in rule:
            expressions.append(Expression(f"alert {rule['alert']}", with_bool(rule["expr"])))
        else:
            expressions.append(Expression(f"record {rule['record']}", rule["expr"]))
    return expressions
