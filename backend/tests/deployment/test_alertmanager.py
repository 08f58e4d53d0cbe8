"""deployment/alertmanager/alertmanager.yml: valid for `amtool` (Debian's
prometheus-alertmanager package), "null" by default, and the documented example receiver valid
and routed once uncommented."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deployment.support import DEPLOYMENT_DIR

CONFIG = DEPLOYMENT_DIR / "alertmanager" / "alertmanager.yml"
AMTOOL = shutil.which("amtool") or "/usr/bin/amtool"
_EXAMPLE = re.compile(r"^ *# BEGIN example (\w+)\n(.*?)\n *# END example \1$", re.S | re.M)


def _amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AMTOOL, *args], capture_output=True, text=True, timeout=60, check=False)


def _receiver_for(config: Path, *labels: str) -> str:
    result = _amtool("config", "routes", "test", f"--config.file={config}", *labels)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def _with_examples_uncommented() -> str:
    """The shipped file with the example route and receiver turned on (one `# ` removed)."""

    def uncomment(match: re.Match[str]) -> str:
        return "\n".join(re.sub(r"^(\s*)# ", r"\1", line) for line in match[2].splitlines())

    text, count = _EXAMPLE.subn(uncomment, CONFIG.read_text())
    assert count == 2, "expected an example route and an example receiver"
    return text


def test_amtool_accepts_the_config() -> None:
    result = _amtool("check-config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_amtool_rejects_a_route_to_an_unknown_receiver(tmp_path: Path) -> None:
    """Control: the same check fails when the route names a receiver that doesn't exist."""
    broken = tmp_path / "alertmanager.yml"
    broken.write_text(CONFIG.read_text().replace('receiver: "null"', "receiver: nobody", 1))
    result = _amtool("check-config", str(broken))
    assert result.returncode != 0
    assert "nobody" in result.stdout + result.stderr


@pytest.mark.parametrize("severity", ["warning", "critical"])
def test_alerts_go_to_the_null_receiver_by_default(severity: str) -> None:
    assert _receiver_for(CONFIG, f"severity={severity}", "alertname=AgentRunErrorRateHigh") == (
        "null"
    )


def test_documented_receiver_is_valid_and_routed_once_uncommented(tmp_path: Path) -> None:
    config = tmp_path / "alertmanager.yml"
    config.write_text(_with_examples_uncommented())
    result = _amtool("check-config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 receivers" in result.stdout
    assert _receiver_for(config, "severity=critical", "alertname=LLMErrorSpike") == "team-webhook"
    assert _receiver_for(config, "severity=info", "alertname=Other") == "null"
