"""scripts/generate-secrets.sh: strong values for every placeholder, idempotent, --force."""

import re
import subprocess
from pathlib import Path

import pytest
from dotenv import dotenv_values

from app.core.config import Settings
from tests.deployment.support import ENV_EXAMPLE, SCRIPTS_DIR
from tests.deployment.test_env_example import SECRETS

SCRIPT = SCRIPTS_DIR / "generate-secrets.sh"


def _run(env_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["bash", str(SCRIPT), "--env-file", str(env_file), "--example", str(ENV_EXAMPLE), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_creates_env_with_strong_unique_secrets(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    result = _run(env_file)
    values = dotenv_values(env_file)
    generated = SECRETS | {"LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY"}
    for name in generated:
        value = values.get(name) or ""
        assert "CHANGEME" not in value and len(value) >= 32, name
        assert value not in result.stdout + result.stderr, f"{name}'s value was printed"
    assert len({values[name] for name in generated}) == len(generated), "a value was reused"
    assert re.fullmatch(r"[0-9a-f]{64}", values["ENCRYPTION_KEY"] or "")  # Langfuse: 256-bit hex
    assert (values["LANGFUSE_PUBLIC_KEY"] or "").startswith("pk-lf-")
    assert (values["LANGFUSE_SECRET_KEY"] or "").startswith("sk-lf-")
    assert env_file.stat().st_mode & 0o077 == 0, "the .env must not be readable by others"
    # Everything else is copied from the example unchanged.
    example = dotenv_values(ENV_EXAMPLE)
    assert {k: v for k, v in values.items() if k not in generated} == {
        k: v for k, v in example.items() if k not in generated
    }


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    _run(env_file)
    before = env_file.read_bytes()
    result = _run(env_file)
    assert env_file.read_bytes() == before
    assert "nothing changed" in result.stdout


def test_real_values_are_kept_and_placeholders_replaced(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        'SECRET_KEY="my-own-key-0123456789-0123456789"\nPOSTGRES_PASSWORD=CHANGEME\n'
        "FIRST_SUPERUSER_PASSWORD=changethis\nOTHER=kept\n"
    )
    _run(env_file)
    values = dotenv_values(env_file)
    assert values["SECRET_KEY"] == "my-own-key-0123456789-0123456789"
    assert values["POSTGRES_PASSWORD"] != "CHANGEME"
    assert values["FIRST_SUPERUSER_PASSWORD"] != "changethis"
    assert values["OTHER"] == "kept"
    assert set(SECRETS) <= set(values), "missing secrets are appended"


def test_force_regenerates_everything(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    _run(env_file)
    before = dotenv_values(env_file)
    _run(env_file, "--force")
    after = dotenv_values(env_file)
    assert all(before[name] != after[name] for name in SECRETS)


def test_generated_env_passes_the_production_secret_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the generated values the app starts in production (it refuses the example's)."""
    env_file = tmp_path / ".env"
    env_file.write_text(ENV_EXAMPLE.read_text().replace("APP_ENV=local", "APP_ENV=production"))
    for key in Settings.model_fields:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("POSTGRES_SERVER", "db.internal")
    with pytest.raises(ValueError, match=r"SECRET_KEY|FIRST_SUPERUSER_PASSWORD"):
        Settings(_env_file=env_file)  # type: ignore[call-arg]
    _run(env_file)
    config = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert config.APP_ENV == "production"
    assert config.is_postgres
