"""Application settings: one object, read from the environment and `.env` files."""

import secrets
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AnyUrl,
    BeforeValidator,
    EmailStr,
    Field,
    computed_field,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

BACKEND_DIR = Path(__file__).resolve().parents[2]
PROJECT_DIR = BACKEND_DIR.parent
AppEnv = Literal["local", "staging", "production", "test"]
DEFAULT_SECRETS = {"changethis", "CHANGEME", ""}


def _env_files() -> tuple[Path, ...]:
    """Return `.env` then `.env.{APP_ENV}` (later files win), from the project and backend dirs."""
    import os

    from dotenv import dotenv_values

    app_env = os.environ.get("APP_ENV") or next(
        (
            str(value)
            for path in (PROJECT_DIR / ".env", BACKEND_DIR / ".env")
            if path.is_file() and (value := dotenv_values(path).get("APP_ENV"))
        ),
        "local",
    )
    files: list[Path] = []
    # Tests are hermetic: a developer's `.env` must not leak keys or URLs into them.
    for name in (f".env.{app_env}",) if app_env == "test" else (".env", f".env.{app_env}"):
        files += [PROJECT_DIR / name, BACKEND_DIR / name]
    return tuple(files)


def parse_list(value: Any) -> list[str] | Any:
    """Accept a comma-separated string or a JSON list."""
    if isinstance(value, str) and not value.startswith("["):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Every setting the application reads; documented in `.env.example`."""

    model_config = SettingsConfigDict(
        env_file=_env_files(), env_ignore_empty=True, extra="ignore", populate_by_name=True
    )

    # --- application ---
    APP_ENV: AppEnv = "local"
    PROJECT_NAME: str = "FastAPI LangGraph Agent Template"
    API_V1_STR: str = "/api/v1"
    SECRET_KEY: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    ACCESS_TOKEN_EXPIRE_MINUTES: int = 60 * 24 * 8
    EMAIL_RESET_TOKEN_EXPIRE_HOURS: int = 48
    FRONTEND_HOST: str = "http://localhost:8000"
    BACKEND_CORS_ORIGINS: Annotated[list[AnyUrl] | str, BeforeValidator(parse_list)] = []
    USERS_OPEN_REGISTRATION: bool = True
    DATA_DIR: Path = BACKEND_DIR / "data"
    FRONTEND_DIST_DIR: Path | None = PROJECT_DIR / "frontend" / "dist"
    MAX_REQUEST_BODY_BYTES: int = 1_048_576

    # --- database ---
    DATABASE_URL: str | None = None
    POSTGRES_SERVER: str | None = None
    POSTGRES_PORT: int = 5432
    POSTGRES_USER: str = "postgres"
    POSTGRES_PASSWORD: str = ""
    POSTGRES_DB: str = "app"
    DB_POOL_SIZE: int = 10
    DB_MAX_OVERFLOW: int = 10
    DB_ECHO: bool = False

    # --- first superuser ---
    FIRST_SUPERUSER: EmailStr = "admin@example.com"
    FIRST_SUPERUSER_PASSWORD: str = "changethis"

    # --- email ---
    SMTP_HOST: str | None = None
    SMTP_PORT: int = 587
    SMTP_USER: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_TLS: bool = True
    SMTP_SSL: bool = False
    EMAILS_FROM_EMAIL: EmailStr | None = None
    EMAILS_FROM_NAME: str | None = None

    # --- logging ---
    LOG_LEVEL: str = "INFO"
    LOG_FORMAT: Literal["auto", "json", "console"] = "auto"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def all_cors_origins(self) -> list[str]:
        """CORS origins from settings plus the frontend host."""
        origins = [str(origin).rstrip("/") for origin in self.BACKEND_CORS_ORIGINS]
        return [*origins, self.FRONTEND_HOST.rstrip("/")]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def SQLALCHEMY_DATABASE_URI(self) -> str:
        """The async SQLAlchemy URL: PostgreSQL via psycopg 3, or the embedded SQLite file."""
        if self.DATABASE_URL:
            url = self.DATABASE_URL
            for prefix in ("postgresql://", "postgres://"):
                if url.startswith(prefix):
                    return "postgresql+psycopg://" + url.removeprefix(prefix)
            if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
                return "sqlite+aiosqlite://" + url.removeprefix("sqlite://")
            return url
        if self.POSTGRES_SERVER:
            return (
                f"postgresql+psycopg://{self.POSTGRES_USER}:{self.POSTGRES_PASSWORD}"
                f"@{self.POSTGRES_SERVER}:{self.POSTGRES_PORT}/{self.POSTGRES_DB}"
            )
        return f"sqlite+aiosqlite:///{self.DATA_DIR / 'app.db'}"

    @property
    def is_postgres(self) -> bool:
        """True when the database is PostgreSQL."""
        return self.SQLALCHEMY_DATABASE_URI.startswith("postgresql")

    @property
    def psycopg_conninfo(self) -> str:
        """A libpq URL for psycopg (checkpointer pool) derived from the SQLAlchemy URL."""
        return self.SQLALCHEMY_DATABASE_URI.replace("postgresql+psycopg://", "postgresql://", 1)

    @property
    def emails_enabled(self) -> bool:
        """True when SMTP is configured; otherwise emails are written to the log."""
        return bool(self.SMTP_HOST and self.EMAILS_FROM_EMAIL)

    @property
    def json_logs(self) -> bool:
        """JSON lines in staging/production (or when forced), readable console otherwise."""
        if self.LOG_FORMAT == "auto":
            return self.APP_ENV in ("staging", "production")
        return self.LOG_FORMAT == "json"

    def _check_secret(self, name: str, value: str | None) -> None:
        if value is None or value in DEFAULT_SECRETS:
            message = (
                f'The value of {name} is unset or "changethis"; '
                "for security, set it to a strong secret (see scripts/generate-secrets.sh)."
            )
            if self.APP_ENV in ("local", "test"):
                warnings.warn(message, stacklevel=1)
            else:
                raise ValueError(message)

    @model_validator(mode="after")
    def _enforce_non_default_secrets(self) -> Self:
        if self.APP_ENV in ("staging", "production"):
            if "SECRET_KEY" not in self.model_fields_set:
                raise ValueError(
                    "SECRET_KEY must be set explicitly in staging/production "
                    "(a random per-process key would log users out on every restart)."
                )
            self._check_secret("SECRET_KEY", self.SECRET_KEY)
            self._check_secret("FIRST_SUPERUSER_PASSWORD", self.FIRST_SUPERUSER_PASSWORD)
            if self.is_postgres and not self.DATABASE_URL:
                self._check_secret("POSTGRES_PASSWORD", self.POSTGRES_PASSWORD)
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings object."""
    return Settings()


settings = get_settings()
