"""Grafana: every dashboard parses and every datasource it names is a provisioned one."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deployment.support import DEPLOYMENT_DIR

DASHBOARDS_DIR = DEPLOYMENT_DIR / "grafana" / "dashboards"
DATASOURCES_DIR = DEPLOYMENT_DIR / "grafana" / "provisioning" / "datasources"
# The dashboards issue 4 asks for.
REQUIRED_TITLES = {
    "Agent Performance Overview",
    "Token Usage and Costs",
    "Errors and Latency Percentiles",
    "Active Executions",
}
# Grafana's built-in pseudo datasources (annotations, mixed panels).
BUILTIN_UIDS = {"grafana", "-- Grafana --", "-- Mixed --", "-- Dashboard --"}


def _provisioned() -> list[dict[str, Any]]:
    sources = []
    for file in sorted(DATASOURCES_DIR.glob("*.y*ml")):
        sources += yaml.safe_load(file.read_text()).get("datasources") or []
    return sources


def _dashboard_files() -> list[Path]:
    return sorted(DASHBOARDS_DIR.glob("*.json"))


def _datasource_refs(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield value
            yield from _datasource_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _datasource_refs(item)


def _template_datasources(dashboard: dict[str, Any]) -> dict[str, str]:
    """Dashboard variables of type `datasource`: name -> datasource type they select."""
    variables = (dashboard.get("templating") or {}).get("list") or []
    return {v["name"]: v.get("query", "") for v in variables if v.get("type") == "datasource"}


def test_datasources_are_provisioned_with_fixed_uids() -> None:
    sources = _provisioned()
    assert sources, f"no datasource provisioned in {DATASOURCES_DIR}"
    uids = [source.get("uid") for source in sources]
    assert all(uids) and len(set(uids)) == len(uids), uids


def test_required_dashboards_exist() -> None:
    titles = {json.loads(file.read_text()).get("title") for file in _dashboard_files()}
    assert REQUIRED_TITLES <= titles, f"missing dashboards: {REQUIRED_TITLES - titles}"


def test_dashboard_uids_and_titles_are_unique() -> None:
    dashboards = [json.loads(file.read_text()) for file in _dashboard_files()]
    uids = [d.get("uid") for d in dashboards]
    titles = [d.get("title") for d in dashboards]
    assert all(uids) and len(set(uids)) == len(uids), uids
    assert len(set(titles)) == len(titles), titles


@pytest.mark.parametrize("path", _dashboard_files(), ids=lambda p: p.name)
def test_every_datasource_reference_resolves(path: Path) -> None:
    dashboard = json.loads(path.read_text())
    assert dashboard.get("panels"), f"{path.name} has no panels"
    sources = _provisioned()
    by_uid = {source["uid"]: source for source in sources}
    names = {source["name"] for source in sources}
    types = {source["type"] for source in sources}
    variables = _template_datasources(dashboard)
    refs = list(_datasource_refs(dashboard))
    assert refs, f"{path.name} names no datasource"
    for ref in refs:
        if ref is None:
            continue  # null = the default datasource, which must then exist
        if isinstance(ref, str):
            ref = {"uid": ref}
        uid = str(ref.get("uid", ""))
        if uid.startswith("$"):
            variable = uid.strip("${}")
            assert variable in variables, f"{path.name}: unknown variable {uid}"
            assert variables[variable] in types, f"{path.name}: no {variables[variable]} datasource"
        elif uid in BUILTIN_UIDS:
            continue
        elif uid in by_uid:
            if "type" in ref:
                assert ref["type"] == by_uid[uid]["type"], f"{path.name}: {ref} type mismatch"
        else:
            assert uid in names, f"{path.name}: datasource {ref} is not provisioned"
    if any(ref is None for ref in refs):
        assert any(source.get("isDefault") for source in sources), "no default datasource"


def test_resolution_catches_an_unknown_uid(tmp_path: Path) -> None:
    """Control: a panel pointing at a datasource nobody provisioned fails the check."""
    dashboard = {"panels": [{"datasource": {"type": "prometheus", "uid": "no-such-uid"}}]}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(dashboard))
    with pytest.raises(AssertionError, match="not provisioned"):
        test_every_datasource_reference_resolves(bad)
