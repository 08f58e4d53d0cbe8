"""`.env.example` documents every setting the code reads and every variable compose uses."""

import re
from collections import Counter

from app.core.config import Settings
from tests.deployment.support import (
    ENV_EXAMPLE,
    PROJECT_DIR,
    compose,
    compose_variables,
    dotenv_keys,
)

FRONTEND_SRC = PROJECT_DIR / "frontend" / "src"

# Secrets: `.env.example` must carry a CHANGEME marker for each (scripts/generate-secrets.sh
# replaces them), never a real-looking value.
SECRETS = {
    "SECRET_KEY",
    "FIRST_SUPERUSER_PASSWORD",
    "POSTGRES_PASSWORD",
    "REDIS_PASSWORD",
    "NEXTAUTH_SECRET",
    "SALT",
    "ENCRYPTION_KEY",
    "CLICKHOUSE_PASSWORD",
    "MINIO_ROOT_PASSWORD",
    "LANGFUSE_INIT_USER_PASSWORD",
    "GRAFANA_ADMIN_PASSWORD",
    "METRICS_BEARER_TOKEN",
}


def _example_values() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def test_every_setting_is_documented() -> None:
    missing = sorted(set(Settings.model_fields) - set(dotenv_keys(ENV_EXAMPLE)))
    assert not missing, f"Settings fields missing from .env.example: {missing}"


def test_every_compose_variable_is_documented() -> None:
    missing = sorted(compose_variables(compose()) - set(dotenv_keys(ENV_EXAMPLE)))
    assert not missing, f"${{VAR}}s used in docker-compose.yml missing from .env.example: {missing}"


def test_no_variable_is_assigned_twice() -> None:
    duplicates = [key for key, count in Counter(dotenv_keys(ENV_EXAMPLE)).items() if count > 1]
    assert not duplicates, f"assigned more than once in .env.example: {duplicates}"


def test_every_variable_has_a_comment_above_it() -> None:
    lines = ENV_EXAMPLE.read_text().splitlines()
    undocumented = []
    for index, line in enumerate(lines):
        if line.strip() and not line.startswith("#"):
            above = lines[index - 1] if index else ""
            if not above.startswith("#"):
                undocumented.append(line.split("=", 1)[0])
    assert not undocumented, f"no `# comment` line above: {undocumented}"


def test_secrets_are_changeme_placeholders() -> None:
    values = _example_values()
    not_marked = sorted(name for name in SECRETS if "CHANGEME" not in values.get(name, ""))
    assert not not_marked, f"secrets without a CHANGEME marker in .env.example: {not_marked}"


def test_example_values_parse_as_settings(monkeypatch) -> None:
    """The documented values are valid for the application (types, enums, lists)."""
    for key in Settings.model_fields:
        monkeypatch.delenv(key, raising=False)
    parsed = Settings(_env_file=ENV_EXAMPLE)  # type: ignore[call-arg]
    assert parsed.APP_ENV == "local"
    assert parsed.SECRET_KEY == "CHANGEME"


# Documented variables that are neither Settings fields nor compose variables, and who reads them.
READ_ELSEWHERE = {
    "PROMETHEUS_MULTIPROC_DIR": "prometheus_client, from the process environment",
    "OTEL_BSP_MAX_QUEUE_SIZE": "the OpenTelemetry SDK under the Langfuse client",
    "WEB_CONCURRENCY": "scripts/serve-production.sh (and compose)",
}


def _frontend_variables() -> set[str]:
    """VITE_* variables the frontend reads (Vite's envDir is the repository root)."""
    sources = [*FRONTEND_SRC.rglob("*.ts"), *FRONTEND_SRC.rglob("*.tsx")]
    return {name for path in sources for name in re.findall(r"\bVITE_[A-Z0-9_]+", path.read_text())}


def test_every_frontend_variable_is_documented() -> None:
    missing = sorted(_frontend_variables() - set(dotenv_keys(ENV_EXAMPLE)))
    assert not missing, f"VITE_* variables missing from .env.example: {missing}"


def test_no_stale_variables() -> None:
    """Everything documented is read by someone: the app, compose, the frontend, or a script."""
    known = (
        set(Settings.model_fields)
        | compose_variables(compose())
        | _frontend_variables()
        | set(READ_ELSEWHERE)
    )
    stale = sorted(set(dotenv_keys(ENV_EXAMPLE)) - known)
    assert not stale, f".env.example documents variables nothing reads: {stale}"
