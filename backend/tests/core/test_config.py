"""Settings: refusing default secrets outside local/test, `.env` precedence, database URLs."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from app.core import config as config_module
from app.core.config import BACKEND_DIR, Settings

STRONG = {
    "SECRET_KEY": "a-strong-secret-key-0123456789abcdef",
    "FIRST_SUPERUSER_PASSWORD": "a-strong-admin-password",
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No setting comes from the test process's environment (the harness sets several).

    DATA_DIR stays a scratch directory: a local SECRET_KEY is persisted there.
    """
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    return monkeypatch


def make(**values: object) -> Settings:
    """Settings from explicit values only: no environment (see `clean_env`), no `.env` file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def write(path: Path, **values: str) -> None:
    """Write a `.env`-style file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))


# --- staging/production refuse default secrets ------------------------------------------------


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("app_env", ["production", "staging"])
def test_secret_key_unset_is_refused(app_env: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        make(APP_ENV=app_env, FIRST_SUPERUSER_PASSWORD=STRONG["FIRST_SUPERUSER_PASSWORD"])


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("app_env", ["production", "staging"])
@pytest.mark.parametrize("value", ["changethis", "CHANGEME"])
def test_default_secret_key_is_refused(app_env: str, value: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        make(**{**STRONG, "APP_ENV": app_env, "SECRET_KEY": value})


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("app_env", ["production", "staging"])
def test_default_superuser_password_is_refused(app_env: str) -> None:
    with pytest.raises(ValidationError, match="FIRST_SUPERUSER_PASSWORD"):
        make(APP_ENV=app_env, SECRET_KEY=STRONG["SECRET_KEY"])  # password left at "changethis"


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("app_env", ["production", "staging"])
@pytest.mark.parametrize("password", [None, "changethis"])
def test_default_postgres_password_is_refused(app_env: str, password: str | None) -> None:
    values: dict[str, object] = {**STRONG, "APP_ENV": app_env, "POSTGRES_SERVER": "db"}
    if password is not None:
        values["POSTGRES_PASSWORD"] = password
    with pytest.raises(ValidationError, match="POSTGRES_PASSWORD"):
        make(**values)


def test_empty_secret_in_the_environment_counts_as_unset(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("APP_ENV", "production")
    clean_env.setenv("SECRET_KEY", "")
    clean_env.setenv("FIRST_SUPERUSER_PASSWORD", STRONG["FIRST_SUPERUSER_PASSWORD"])
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        make()


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("app_env", ["production", "staging"])
def test_strong_secrets_are_accepted(app_env: str) -> None:
    settings = make(
        **STRONG, APP_ENV=app_env, POSTGRES_SERVER="db", POSTGRES_PASSWORD="a-strong-db-password"
    )
    assert settings.SECRET_KEY == STRONG["SECRET_KEY"]
    assert settings.is_postgres


@pytest.mark.usefixtures("clean_env")
def test_database_url_makes_postgres_password_irrelevant() -> None:
    settings = make(**STRONG, APP_ENV="production", DATABASE_URL="postgresql://u:p@db/app")
    assert settings.is_postgres


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("app_env", ["local", "test"])
def test_defaults_are_accepted_in_local_and_test(app_env: str) -> None:
    settings = make(APP_ENV=app_env, POSTGRES_SERVER="db")
    assert settings.FIRST_SUPERUSER_PASSWORD == "changethis"
    assert settings.POSTGRES_PASSWORD == ""


def test_local_secret_key_is_generated_once_and_kept(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first, second = make(), make()
    assert len(first.SECRET_KEY) >= 32
    assert first.SECRET_KEY == second.SECRET_KEY  # restarts don't log users out
    key_file = tmp_path / "data" / ".secret_key"
    assert key_file.read_text() == first.SECRET_KEY
    assert key_file.stat().st_mode & 0o077 == 0  # readable by the owner only
    clean_env.setenv("DATA_DIR", str(tmp_path / "elsewhere"))
    assert make().SECRET_KEY != first.SECRET_KEY


def test_test_secret_key_is_not_persisted(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    first, second = make(APP_ENV="test"), make(APP_ENV="test")
    assert first.SECRET_KEY != second.SECRET_KEY
    assert not (tmp_path / "data" / ".secret_key").exists()


def test_the_app_refuses_to_start_naming_the_variable(tmp_path: Path) -> None:
    """A real process: `import app.main` with a default secret in production exits non-zero."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "APP_ENV": "production",
        "SECRET_KEY": "changethis",
        "FIRST_SUPERUSER_PASSWORD": STRONG["FIRST_SUPERUSER_PASSWORD"],
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        "DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", "import app.main"],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "changethis" in result.stderr  # the message says what is wrong with it


# --- precedence: environment > .env.{APP_ENV} > .env -------------------------------------------


@pytest.fixture
def project(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A scratch project directory (with `backend/`) that `_env_files()` reads from."""
    clean_env.setattr(config_module, "PROJECT_DIR", tmp_path)
    clean_env.setattr(config_module, "BACKEND_DIR", tmp_path / "backend")
    (tmp_path / "backend").mkdir()
    return tmp_path


def from_files() -> Settings:
    """Settings read the way the app reads them, from the files `_env_files()` picks."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Settings(_env_file=config_module._env_files())  # type: ignore[call-arg]


def test_env_app_env_file_overrides_dotenv(project: Path) -> None:
    write(project / ".env", PROJECT_NAME="from-dotenv", LOG_LEVEL="DEBUG")
    write(project / ".env.local", PROJECT_NAME="from-dotenv-local")
    settings = from_files()
    assert settings.PROJECT_NAME == "from-dotenv-local"
    assert settings.LOG_LEVEL == "DEBUG"  # not overridden, so `.env` still applies


def test_environment_overrides_both_files(project: Path, clean_env: pytest.MonkeyPatch) -> None:
    write(project / ".env", PROJECT_NAME="from-dotenv")
    write(project / ".env.local", PROJECT_NAME="from-dotenv-local")
    clean_env.setenv("PROJECT_NAME", "from-environment")
    assert from_files().PROJECT_NAME == "from-environment"


def test_app_env_from_environment_selects_the_file(
    project: Path, clean_env: pytest.MonkeyPatch
) -> None:
    write(project / ".env", PROJECT_NAME="from-dotenv", **STRONG)
    write(project / ".env.local", PROJECT_NAME="from-dotenv-local")
    write(project / ".env.staging", PROJECT_NAME="from-dotenv-staging")
    clean_env.setenv("APP_ENV", "staging")
    settings = from_files()
    assert settings.APP_ENV == "staging"
    assert settings.PROJECT_NAME == "from-dotenv-staging"


def test_app_env_from_dotenv_selects_the_file(project: Path) -> None:
    write(project / ".env", APP_ENV="staging", PROJECT_NAME="from-dotenv")
    write(project / ".env.staging", PROJECT_NAME="from-dotenv-staging", **STRONG)
    settings = from_files()
    assert settings.APP_ENV == "staging"
    assert settings.PROJECT_NAME == "from-dotenv-staging"
    assert settings.SECRET_KEY == STRONG["SECRET_KEY"]


def test_staging_secrets_from_files_are_checked(project: Path) -> None:
    write(project / ".env", APP_ENV="production", SECRET_KEY="changethis")
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        from_files()


def test_backend_dotenv_overrides_project_dotenv(project: Path) -> None:
    write(project / ".env", PROJECT_NAME="project", LOG_LEVEL="DEBUG")
    write(project / "backend" / ".env", PROJECT_NAME="backend")
    settings = from_files()
    assert settings.PROJECT_NAME == "backend"
    assert settings.LOG_LEVEL == "DEBUG"


def test_test_env_reads_only_its_own_file(project: Path, clean_env: pytest.MonkeyPatch) -> None:
    """Tests are hermetic: a developer's `.env` (keys, URLs) doesn't leak into them."""
    write(project / ".env", PROJECT_NAME="developer", OPENAI_API_KEY="sk-developer")
    write(project / ".env.test", LOG_LEVEL="ERROR")
    clean_env.setenv("APP_ENV", "test")
    settings = from_files()
    assert settings.PROJECT_NAME == Settings.model_fields["PROJECT_NAME"].default
    assert settings.OPENAI_API_KEY is None
    assert settings.LOG_LEVEL == "ERROR"


# --- database URLs ----------------------------------------------------------------------------


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/app", "postgresql+psycopg://u:p@db:5432/app"),
        ("postgres://u:p@db/app", "postgresql+psycopg://u:p@db/app"),
        ("postgresql+psycopg://u:p@db/app", "postgresql+psycopg://u:p@db/app"),
        ("sqlite:////data/app.db", "sqlite+aiosqlite:////data/app.db"),
        ("sqlite:///relative.db", "sqlite+aiosqlite:///relative.db"),
        ("sqlite+aiosqlite:////data/app.db", "sqlite+aiosqlite:////data/app.db"),
    ],
)
def test_database_url_normalisation(given: str, expected: str) -> None:
    settings = make(DATABASE_URL=given)
    assert settings.SQLALCHEMY_DATABASE_URI == expected
    assert settings.is_postgres == expected.startswith("postgresql")


@pytest.mark.usefixtures("clean_env")
def test_embedded_sqlite_is_the_default(tmp_path: Path) -> None:
    settings = make(DATA_DIR=tmp_path / "data")
    assert settings.SQLALCHEMY_DATABASE_URI == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'app.db'}"
    assert not settings.is_postgres


@pytest.mark.usefixtures("clean_env")
def test_database_url_wins_over_postgres_settings() -> None:
    settings = make(DATABASE_URL="sqlite:////tmp/x.db", POSTGRES_SERVER="db")
    assert settings.SQLALCHEMY_DATABASE_URI == "sqlite+aiosqlite:////tmp/x.db"


@pytest.mark.usefixtures("clean_env")
def test_url_from_postgres_settings_quotes_the_password() -> None:
    password = "p@ss:w/rd#%?"
    settings = make(
        POSTGRES_SERVER="db.internal",
        POSTGRES_PORT=6543,
        POSTGRES_USER="app",
        POSTGRES_PASSWORD=password,
        POSTGRES_DB="appdb",
    )
    url = make_url(settings.SQLALCHEMY_DATABASE_URI)
    assert url.drivername == "postgresql+psycopg"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "app",
        password,
        "db.internal",
        6543,
        "appdb",
    )
    assert settings.psycopg_conninfo.startswith("postgresql://app:")


# --- other derived values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "origins", ["http://a.example, http://b.example/", '["http://a.example","http://b.example"]']
)
def test_cors_origins_from_a_list_or_a_string(clean_env: pytest.MonkeyPatch, origins: str) -> None:
    clean_env.setenv("BACKEND_CORS_ORIGINS", origins)
    settings = make(FRONTEND_HOST="http://front.example/")
    assert settings.all_cors_origins == [
        "http://a.example",
        "http://b.example",
        "http://front.example",
    ]


@pytest.mark.usefixtures("clean_env")
def test_emails_enabled_needs_host_and_sender() -> None:
    assert not make().emails_enabled
    assert not make(SMTP_HOST="smtp.example").emails_enabled
    assert make(SMTP_HOST="smtp.example", EMAILS_FROM_EMAIL="no-reply@example.com").emails_enabled


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    ("time_cost", "memory_kib"),
    [(1, 65536), (3, 8192), (1, 1024)],
    ids=["passes", "memory", "both"],
)
def test_weak_password_hashing_is_refused_in_production(time_cost: int, memory_kib: int) -> None:
    with pytest.raises(ValidationError, match="PASSWORD_HASH_TIME_COST"):
        make(
            **STRONG,
            APP_ENV="production",
            POSTGRES_SERVER="db",
            POSTGRES_PASSWORD="a-strong-db-password",
            PASSWORD_HASH_TIME_COST=time_cost,
            PASSWORD_HASH_MEMORY_KIB=memory_kib,
        )
    assert make(PASSWORD_HASH_TIME_COST=time_cost, PASSWORD_HASH_MEMORY_KIB=memory_kib)
