"""scripts/run.sh (the README's first command) streams the offline model at a human pace unless
OFFLINE_MODEL_TOKENS_PER_SECOND is set; the application's own default stays instant."""

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.deployment.support import SCRIPTS_DIR

PY_BLOCK = re.compile(r"<<'PY'\n(.*?)\nPY\n", re.S)


def _settings_script() -> str:
    [script] = PY_BLOCK.findall((SCRIPTS_DIR / "run.sh").read_text())
    return script


def _exports(**env: str) -> dict[str, str]:
    """Run run.sh's settings block as run.sh does (in backend/, so `.env` files apply) and
    return the assignments it prints for the shell to `eval`."""
    clean = {k: v for k, v in os.environ.items() if k != "OFFLINE_MODEL_TOKENS_PER_SECOND"}
    output = subprocess.run(
        [sys.executable, "-c", _settings_script()],
        env={**clean, "APP_ENV": "test", **env},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pairs = (line.removeprefix("export ").split("=", 1) for line in output.splitlines())
    return {name: value for name, value in pairs if name}


def test_run_sh_paces_the_offline_model_by_default() -> None:
    assert _exports()["OFFLINE_MODEL_TOKENS_PER_SECOND"] == "30"


def test_run_sh_keeps_a_pace_the_user_set() -> None:
    exports = _exports(OFFLINE_MODEL_TOKENS_PER_SECOND="0")
    assert "OFFLINE_MODEL_TOKENS_PER_SECOND" not in exports  # the user's 0 stays in force


def test_run_sh_ignores_an_empty_value_as_in_env_example() -> None:
    exports = _exports(OFFLINE_MODEL_TOKENS_PER_SECOND="")
    assert exports["OFFLINE_MODEL_TOKENS_PER_SECOND"] == "30"
