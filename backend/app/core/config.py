"""Application settings: one object, read from the environment and `.env` files."""

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AnyUrl,
    BaseModel,
    BeforeValidator,
    EmailStr,
    Field,
    computed_field,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.guardrail_policy import PolicyError, load_policy

BACKEND_DIR = Path(__file__).resolve().parents[2]
PROJECT_DIR = BACKEND_DIR.parent
AppEnv = Literal["local", "staging", "production", "test"]
DEFAULT_SECRETS = {"changethis", "CHANGEME", ""}
# Context windows (tokens) of the models of the providers we support, by model-name prefix.
DEFAULT_CONTEXT_WINDOWS = {
    "gpt-3.5-turbo": 16_385,
    "gpt-4": 8_192,
    "gpt-4-turbo": 128_000,
    "gpt-4o": 128_000,
    "gpt-4.1": 1_047_576,
    "gpt-5": 400_000,
    "o1": 200_000,
    "o3": 200_000,
    "o4-mini": 200_000,
    "claude-": 200_000,
    "offline": 32_768,
}


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


Provider = Literal["openai", "anthropic", "azure", "offline"]


class ModelSpec(BaseModel):
    """One model of the chain: its provider and name, and its own timeout and retry budget
    (None: LLM_TIMEOUT_SECONDS / LLM_MAX_RETRIES); base_url/api_key override the provider's."""

    provider: Provider
    model: str = Field(min_length=1)
    timeout_seconds: float | None = Field(default=None, gt=0)
    max_retries: int | None = Field(default=None, ge=0, le=10)
    base_url: str | None = None
    api_key: str | None = None

    @property
    def key(self) -> str:
        """The breaker's and the metrics' name for this model: `provider:model`."""
        return f"{self.provider}:{self.model}"


class Settings(BaseSettings):
    """Every setting the application reads; documented in `.env.example`."""

    model_config = SettingsConfigDict(
        env_file=_env_files(), env_ignore_empty=True, extra="ignore", populate_by_name=True
    )

    # --- application ---
    APP_ENV: AppEnv = "local"
    PROJECT_NAME: str = "FastAPI LangGraph Agent Template"
    API_V1_STR: str = "/api/v1"
    # Where the Agent Protocol (LangGraph SDK clients, agent-chat-ui) is served.
    AGENT_PROTOCOL_PATH: str = Field(default="/agent-protocol", pattern=r"^/[A-Za-z0-9_\-/]*[^/]$")
    SECRET_KEY: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    # Short-lived: sessions are revoked server-side, an access token is checked against its
    # session on every request, and the SPA renews it through the refresh cookie.
    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(default=15, ge=1)
    # Seconds a verified (user, session) is remembered in the process, so a request costs no
    # user query. Logout, deactivation, deletion and password changes forget it at once (in
    # other processes through Redis); this bounds it if such a message were lost. 0: off.
    AUTH_CACHE_SECONDS: float = Field(default=30.0, ge=0, le=300)
    # A refresh token's lifetime (each rotation starts a new one): idle sessions end after this.
    REFRESH_TOKEN_EXPIRE_DAYS: float = Field(default=8.0, gt=0)
    # Argon2id cost of password hashes (pwdlib's defaults). A stored hash made with other values
    # is rehashed at the user's next login. Staging/production refuse less than OWASP's floor
    # (2 passes over 19 MiB); the test suite uses the minimum to stay fast.
    PASSWORD_HASH_TIME_COST: int = Field(default=3, ge=1, le=20)
    PASSWORD_HASH_MEMORY_KIB: int = Field(default=65536, ge=1024, le=1048576)
    # Live (not revoked, not expired) personal API keys one user may hold at once.
    API_KEY_MAX_PER_USER: int = Field(default=20, ge=1)
    # The refresh and CSRF cookies' Secure flag; default: on in staging/production, off in
    # local/test (plain http://localhost). An explicit value wins.
    AUTH_COOKIE_SECURE: bool | None = None
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

    # --- agent: model providers ---
    LLM_MODEL_PROVIDER: Literal["openai", "anthropic", "azure", "offline"] | None = None
    LLM_MODEL_NAME: str | None = None
    LLM_TEMPERATURE: float = Field(default=0.2, ge=0.0, le=2.0)
    LLM_MAX_TOKENS: int = Field(default=2000, ge=1)
    LLM_TIMEOUT_SECONDS: float = Field(default=60.0, gt=0)
    LLM_MAX_RETRIES: int = Field(default=3, ge=0, le=10)
    LLM_FALLBACK_MODEL_NAME: str | None = None
    # Ordered fallbacks after the primary (JSON list of ModelSpec: provider, model, and optional
    # timeout_seconds, max_retries, base_url, api_key); each may use any provider.
    # LLM_FALLBACK_MODEL_NAME, when set, is the first fallback (the primary's provider).
    LLM_FALLBACK_MODELS: list[ModelSpec] = Field(default_factory=list)
    # Total seconds one model call may take, retries and fallbacks included (and never more
    # than what is left of AGENT_RUN_TIMEOUT_SECONDS).
    LLM_CALL_DEADLINE_SECONDS: float = Field(default=90.0, gt=0)
    # Circuit breaker per model (app/core/circuit_breaker.py): opens after this many failures
    # in a row, or at this failure rate over the window once it has LLM_BREAKER_MIN_CALLS
    # calls; after the cool-down one probe call decides. Shared through Redis when configured.
    LLM_BREAKER_ENABLED: bool = True
    LLM_BREAKER_FAILURE_THRESHOLD: int = Field(default=5, ge=1)
    LLM_BREAKER_FAILURE_RATE: float = Field(default=0.5, gt=0.0, le=1.0)
    LLM_BREAKER_MIN_CALLS: int = Field(default=20, ge=1)
    LLM_BREAKER_WINDOW_SECONDS: float = Field(default=60.0, gt=0)
    LLM_BREAKER_COOLDOWN_SECONDS: float = Field(default=30.0, gt=0)
    OPENAI_API_KEY: str | None = None
    OPENAI_BASE_URL: str | None = None
    AZURE_OPENAI_API_KEY: str | None = None
    AZURE_OPENAI_ENDPOINT: str | None = None
    AZURE_OPENAI_API_VERSION: str = "2024-10-21"
    AZURE_OPENAI_DEPLOYMENT: str | None = None
    ANTHROPIC_API_KEY: str | None = None
    ANTHROPIC_BASE_URL: str | None = None
    # Context windows in tokens by model-name prefix (longest prefix wins), merged over the
    # built-in table below; a model neither names gets LLM_CONTEXT_WINDOW_DEFAULT. Requests are
    # fitted to the window minus LLM_MAX_TOKENS (app/agents/context.py).
    LLM_CONTEXT_WINDOWS: dict[str, int] = Field(default_factory=dict)
    # Conservative for unknown models (self-hosted servers often run with small windows).
    LLM_CONTEXT_WINDOW_DEFAULT: int = Field(default=8192, ge=512)
    # Tool outputs of earlier turns are shortened to about this many tokens when a thread
    # no longer fits the window (before older turns are summarised).
    AGENT_CONTEXT_TOOL_OUTPUT_TOKENS: int = Field(default=500, ge=50)
    OFFLINE_MODEL_LATENCY_MS: int = Field(default=0, ge=0)
    OFFLINE_MODEL_TOKENS_PER_SECOND: float = Field(default=0.0, ge=0.0)

    # --- agent: runtime and budgets ---
    AGENT_MAX_TOOL_CALLS: int = Field(default=8, ge=0)
    AGENT_RECURSION_LIMIT: int = Field(default=40, ge=4)
    AGENT_MAX_INPUT_CHARS: int = Field(default=8000, ge=1)
    AGENT_RUN_TIMEOUT_SECONDS: float = Field(default=300.0, gt=0)
    AGENT_HTTP_ALLOWED_HOSTS: Annotated[list[str] | str, BeforeValidator(parse_list)] = []
    AGENT_HTTP_TIMEOUT_SECONDS: float = Field(default=10.0, gt=0)
    AGENT_HTTP_MAX_RESPONSE_BYTES: int = Field(default=100_000, ge=1)
    AGENT_HTTP_MAX_REDIRECTS: int = Field(default=3, ge=0)
    AGENT_APPROVAL_REQUIRED_TOOLS: Annotated[list[str] | str, BeforeValidator(parse_list)] = []
    # Test/dev only (refused in staging/production): hosts the HTTP tools may reach even though
    # they resolve to loopback/private addresses. Not an allowlist: tainted runs still ask.
    AGENT_HTTP_TEST_HOSTS: Annotated[list[str] | str, BeforeValidator(parse_list)] = []
    # MCP servers whose tools the agent may use: a JSON object {name: server} or a path to a
    # JSON file holding one (schema: app.agents.mcp.config.McpServerConfig).
    AGENT_MCP_SERVERS: str = ""
    # MCP tools (as the agent names them, `server_tool`) that run without approval when their
    # server also marks them read-only (readOnlyHint).
    AGENT_MCP_AUTO_APPROVE: Annotated[list[str] | str, BeforeValidator(parse_list)] = []
    AGENT_MCP_TOOL_TIMEOUT_SECONDS: float = Field(default=30.0, gt=0)
    AGENT_MCP_MAX_OUTPUT_BYTES: int = Field(default=100_000, ge=1)
    # How often a connected MCP server is pinged and a down one retried, in seconds.
    AGENT_MCP_PING_INTERVAL_SECONDS: float = Field(default=10.0, gt=0)
    # Where our agent is served as an MCP server (streamable HTTP); empty = not served.
    AGENT_MCP_ENDPOINT_PATH: str = Field(default="/mcp", pattern=r"^(/[A-Za-z0-9/_-]*[^/])?$")
    APPROVAL_TIMEOUT_MINUTES: float = Field(default=60.0, gt=0)
    APPROVAL_SWEEP_INTERVAL_SECONDS: float = Field(default=30.0, gt=0)
    CHECKPOINT_POOL_MAX_SIZE: int = Field(default=10, ge=1)
    # With a real model, a new conversation is named by the model from its first exchange (one
    # short call through the model chain, its own queue task after the answer, its tokens added
    # to the run; app/services/runs/titles.py); off: the trimmed first message.
    AGENT_MODEL_TITLES: bool = True
    # Retention (app/services/retention.py). The newest N checkpoints of each thread are kept
    # (0: all). Each run saves about one, and the Agent Protocol's thread history and branching
    # (a run from an earlier checkpoint_id) reach back only as far as those kept.
    AGENT_CHECKPOINT_RETENTION: int = Field(default=100, ge=0)
    # Threads idle this long are deleted with their checkpoints; their runs stay in the
    # history, flagged thread_deleted (0: never).
    AGENT_THREAD_TTL_DAYS: float = Field(default=0.0, ge=0.0)
    # How often the retention job is queued (0: never; `agent-retention` runs it on demand),
    # and how many threads one batch handles.
    AGENT_RETENTION_INTERVAL_SECONDS: float = Field(default=3600.0, ge=0.0)
    AGENT_RETENTION_BATCH_SIZE: int = Field(default=100, ge=1, le=10_000)

    # --- agent: durable runs (queue, workers, leases, event log) ---
    AGENT_INPROCESS_WORKER: bool = True
    AGENT_WORKER_CONCURRENCY: int = Field(default=200, ge=1)
    AGENT_RUN_LEASE_SECONDS: float = Field(default=15.0, ge=1.0, le=300.0)
    AGENT_RUN_QUEUE_TIMEOUT_SECONDS: float = Field(default=120.0, gt=0)
    AGENT_EVENTS_MAX_LEN: int = Field(default=10_000, ge=100)
    AGENT_EVENTS_TTL_SECONDS: int = Field(default=3600, ge=1)
    # On SIGTERM, how long requests and event streams in flight get to finish (uvicorn's
    # graceful shutdown in scripts/serve_production.py, every SSE stream's grace), and the
    # runs in flight of a process that executes them (what is left of it, in an API process).
    GRACEFUL_SHUTDOWN_SECONDS: int = Field(default=20, ge=0, le=3600)

    # --- agent: guardrails (app/agents/guardrails) ---
    AGENT_GUARDRAILS_ENABLED: bool = True
    # YAML or JSON policy; a file that doesn't parse stops the app at start-up (file and line).
    AGENT_GUARDRAIL_POLICY_FILE: Path | None = None
    # Regexes that block an input (added to the policy file's), and terms redacted in answers.
    AGENT_GUARDRAIL_BLOCKED_PATTERNS: Annotated[list[str] | str, BeforeValidator(parse_list)] = []
    AGENT_GUARDRAIL_BLOCKED_TERMS: Annotated[list[str] | str, BeforeValidator(parse_list)] = []

    # --- browser security headers (app/core/security_headers.py) ---
    SECURITY_HEADERS_ENABLED: bool = True
    # Origins (scheme://host[:port]) chat answers may load images from; default: same origin.
    CHAT_IMAGE_ALLOWED_ORIGINS: Annotated[list[str] | str, BeforeValidator(parse_list)] = []
    # Extra origins the browser may connect to (fetch/XHR/WebSocket), besides the app itself.
    CSP_CONNECT_SRC_ORIGINS: Annotated[list[str] | str, BeforeValidator(parse_list)] = []
    # Strict-Transport-Security max-age; 0 = not sent (set it when served over HTTPS only).
    SECURITY_HSTS_SECONDS: int = Field(default=0, ge=0)

    # --- evaluation: LLM-as-judge (app/evaluation) ---
    EVALUATION_PROVIDER: Literal["openai", "anthropic", "azure", "offline"] | None = None
    EVALUATION_API_KEY: str | None = None
    EVALUATION_BASE_URL: str | None = None
    EVALUATION_LLM: str = "gpt-4o-mini"
    EVALUATION_JUDGE: Literal["auto", "llm", "offline"] = "auto"
    EVALUATION_SLEEP_TIME: float = Field(default=0.0, ge=0.0)
    EVALUATION_CONCURRENCY: int = Field(default=8, ge=1, le=256)
    EVALUATION_TIMEOUT_SECONDS: float = Field(default=60.0, gt=0)
    EVALUATION_MAX_RETRIES: int = Field(default=5, ge=0, le=20)
    EVALUATION_RETRY_MAX_WAIT_SECONDS: float = Field(default=30.0, gt=0)
    EVALUATION_MAX_FIELD_CHARS: int = Field(default=12_000, ge=100)
    EVALUATION_REPORTS_DIR: Path = BACKEND_DIR / "reports"
    EVALUATION_CALIBRATION_MIN_RUNS: int = Field(default=20, ge=2)
    EVALUATION_JOB_STALE_SECONDS: float = Field(default=120.0, gt=0)
    # `agent-eval experiment run`: the user the agent runs as (their budgets apply) and how many
    # dataset items are in flight at once (each is one agent run plus its judge calls).
    EVALUATION_EXPERIMENT_USER: str | None = None
    EVALUATION_EXPERIMENT_CONCURRENCY: int = Field(default=4, ge=1, le=64)

    # --- redis, rate limits and budgets (app/api/rate_limit.py, app/services/budget.py) ---
    REDIS_URL: str | None = None
    REDIS_HOST: str | None = None
    REDIS_PORT: int = 6379
    REDIS_PASSWORD: str | None = None
    REDIS_DB: int = Field(default=0, ge=0)
    REDIS_SOCKET_TIMEOUT_SECONDS: float = Field(default=0.5, gt=0)
    # Defaults to true, except under APP_ENV=test where a test turns limits on explicitly.
    RATE_LIMIT_ENABLED: bool = True
    RATE_LIMIT_PER_MINUTE: int = Field(default=60, ge=0)
    AUTH_RATE_LIMIT_PER_MINUTE: int = Field(default=10, ge=0)
    RATE_LIMIT_WINDOW_SECONDS: int = Field(default=60, ge=1)
    # Defaults to true in local/test, false in staging/production.
    RATE_LIMIT_FAIL_OPEN: bool = True
    TRUSTED_PROXIES: Annotated[list[str] | str, BeforeValidator(parse_list)] = []
    # Per-account login throttle (app/services/auth/throttle.py), kept in the database so it
    # holds with Redis down. Defaults to true, except under APP_ENV=test.
    LOGIN_THROTTLE_ENABLED: bool = True
    LOGIN_THROTTLE_FREE_ATTEMPTS: int = Field(default=5, ge=1)
    LOGIN_THROTTLE_BASE_SECONDS: float = Field(default=1.0, gt=0)
    LOGIN_THROTTLE_MAX_SECONDS: float = Field(default=900.0, gt=0)
    LOGIN_THROTTLE_RESET_SECONDS: float = Field(default=3600.0, gt=0)
    LOGIN_FAILURE_EMAIL_AFTER: int = Field(default=10, ge=0)
    AGENT_DAILY_TOKEN_BUDGET: int = Field(default=0, ge=0)
    AGENT_MAX_CONCURRENT_RUNS_PER_USER: int = Field(default=3, ge=0)

    # --- logging ---
    LOG_LEVEL: str = "INFO"
    LOG_FORMAT: Literal["auto", "json", "console"] = "auto"
    # Mask emails, phones, card numbers, IBANs and secrets in logs and Langfuse (app/core/pii.py).
    # Defaults to true in staging/production, false in local/test; an explicit value wins.
    TELEMETRY_MASK_PII: bool | None = None

    # --- observability: Langfuse tracing (app/core/telemetry.py) ---
    # Tracing is on only when LANGFUSE_ENABLED and both keys are set.
    LANGFUSE_ENABLED: bool = True
    LANGFUSE_PUBLIC_KEY: str | None = None
    LANGFUSE_SECRET_KEY: str | None = None
    LANGFUSE_BASE_URL: str | None = None
    LANGFUSE_HOST: str | None = None
    LANGFUSE_PROJECT_ID: str | None = None
    # Browser-facing Langfuse URL for trace links (default: the base URL above).
    LANGFUSE_PUBLIC_URL: str | None = None
    LANGFUSE_SAMPLE_RATE: float = Field(default=1.0, ge=0.0, le=1.0)
    LANGFUSE_TIMEOUT_SECONDS: int = Field(default=3, ge=1, le=60)
    LANGFUSE_FLUSH_INTERVAL_SECONDS: float = Field(default=2.0, gt=0)
    LANGFUSE_SHUTDOWN_TIMEOUT_SECONDS: float = Field(default=5.0, gt=0)

    # --- observability: LangSmith, passed through to LangChain (off by default) ---
    LANGCHAIN_TRACING_V2: bool = False
    LANGCHAIN_API_KEY: str | None = None
    LANGCHAIN_PROJECT: str | None = None
    LANGCHAIN_ENDPOINT: str | None = None

    # --- observability: Prometheus metrics (app/core/metrics.py) ---
    METRICS_ENABLED: bool = True
    METRICS_BEARER_TOKEN: str | None = None
    # The worker process (app/worker.py) serves its /metrics on this port; None: not served.
    WORKER_METRICS_PORT: int | None = Field(default=None, ge=1, le=65535)
    AGENT_LATENCY_SLO_SECONDS: float = Field(default=30.0, gt=0)
    # USD per 1M tokens by model-name prefix (longest prefix wins), overriding genai-prices'
    # bundled data (app/core/pricing.py); a model neither knows has an unknown cost, never 0.
    LLM_PRICES_JSON: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {"offline": {"input": 0.0, "output": 0.0}}
    )

    @model_validator(mode="after")
    def _context_window_defaults(self) -> Self:
        # The built-in windows (provider documentation, 2026-11); explicit entries win.
        self.LLM_CONTEXT_WINDOWS = {**DEFAULT_CONTEXT_WINDOWS, **self.LLM_CONTEXT_WINDOWS}
        for prefix, window in self.LLM_CONTEXT_WINDOWS.items():
            if window < 512:
                raise ValueError(f"LLM_CONTEXT_WINDOWS[{prefix!r}] = {window}: at least 512")
        return self

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
            from urllib.parse import quote

            # Quoted: a password with "@", "/" or ":" would otherwise break the URL.
            return (
                f"postgresql+psycopg://{quote(self.POSTGRES_USER, safe='')}"
                f":{quote(self.POSTGRES_PASSWORD, safe='')}"
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
    def llm_provider(self) -> str:
        """The configured provider; `offline` when none is set and no API key is configured."""
        if self.LLM_MODEL_PROVIDER:
            return self.LLM_MODEL_PROVIDER
        if self.OPENAI_API_KEY:
            return "openai"
        if self.ANTHROPIC_API_KEY:
            return "anthropic"
        if self.AZURE_OPENAI_API_KEY and self.AZURE_OPENAI_ENDPOINT:
            return "azure"
        return "offline"

    @property
    def llm_model_name(self) -> str:
        """The model name, with a sensible default per provider."""
        defaults = {
            "openai": "gpt-4o-mini",
            "azure": self.AZURE_OPENAI_DEPLOYMENT or "gpt-4o-mini",
            "anthropic": "claude-3-5-haiku-latest",
            "offline": "offline-demo",
        }
        return self.LLM_MODEL_NAME or defaults[self.llm_provider]

    @property
    def model_chain(self) -> list[ModelSpec]:
        """The primary model (LLM_MODEL_PROVIDER/LLM_MODEL_NAME, LLM_TIMEOUT_SECONDS,
        LLM_MAX_RETRIES), then LLM_FALLBACK_MODEL_NAME (same provider), then
        LLM_FALLBACK_MODELS, in that order; the primary never repeats as its own fallback."""
        primary = ModelSpec(
            provider=self.llm_provider,
            model=self.llm_model_name,
            timeout_seconds=self.LLM_TIMEOUT_SECONDS,
            max_retries=self.LLM_MAX_RETRIES,
        )
        chain = [primary]
        if self.LLM_FALLBACK_MODEL_NAME:
            chain.append(primary.model_copy(update={"model": self.LLM_FALLBACK_MODEL_NAME}))
        for spec in self.LLM_FALLBACK_MODELS:
            chain.append(
                spec.model_copy(
                    update={
                        "timeout_seconds": spec.timeout_seconds or self.LLM_TIMEOUT_SECONDS,
                        "max_retries": self.LLM_MAX_RETRIES
                        if spec.max_retries is None
                        else spec.max_retries,
                    }
                )
            )
        unique: dict[str, ModelSpec] = {}
        for spec in chain:
            unique.setdefault(spec.key, spec)
        return list(unique.values())

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

    @staticmethod
    def _check_secret(name: str, value: str | None) -> None:
        """Refuse an unset or default secret (called in staging/production only)."""
        if value is None or value in DEFAULT_SECRETS:
            raise ValueError(
                f'The value of {name} is unset or "changethis"; '
                "for security, set it to a strong secret (see scripts/generate-secrets.sh)."
            )

    @model_validator(mode="after")
    def _persist_local_secret_key(self) -> Self:
        """Locally, keep one generated SECRET_KEY in DATA_DIR so restarts don't log users out."""
        if self.APP_ENV == "local" and "SECRET_KEY" not in self.model_fields_set:
            key_file = self.DATA_DIR / ".secret_key"
            try:
                if key_file.is_file():
                    self.SECRET_KEY = key_file.read_text().strip() or self.SECRET_KEY
                else:
                    key_file.parent.mkdir(parents=True, exist_ok=True)
                    key_file.write_text(self.SECRET_KEY)
                    key_file.chmod(0o600)
            except OSError:
                pass  # read-only checkout: a per-process key still works
        return self

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

    @model_validator(mode="after")
    def _rate_limit_defaults(self) -> Self:
        # Environment-dependent defaults; an explicit value always wins.
        if "RATE_LIMIT_ENABLED" not in self.model_fields_set and self.APP_ENV == "test":
            self.RATE_LIMIT_ENABLED = False
        if "LOGIN_THROTTLE_ENABLED" not in self.model_fields_set and self.APP_ENV == "test":
            self.LOGIN_THROTTLE_ENABLED = False
        if "RATE_LIMIT_FAIL_OPEN" not in self.model_fields_set:
            self.RATE_LIMIT_FAIL_OPEN = self.APP_ENV in ("local", "test")
        import ipaddress

        for proxy in self.TRUSTED_PROXIES:
            ipaddress.ip_network(proxy, strict=False)  # raises ValueError on a bad CIDR
        return self

    @property
    def auth_cookie_secure(self) -> bool:
        """AUTH_COOKIE_SECURE, defaulting to on in staging/production."""
        if self.AUTH_COOKIE_SECURE is None:
            return self.APP_ENV in ("staging", "production")
        return self.AUTH_COOKIE_SECURE

    @property
    def mask_pii(self) -> bool:
        """TELEMETRY_MASK_PII, defaulting to on in staging/production."""
        if self.TELEMETRY_MASK_PII is None:
            return self.APP_ENV in ("staging", "production")
        return self.TELEMETRY_MASK_PII

    @model_validator(mode="after")
    def _check_agent_safety(self) -> Self:
        if self.APP_ENV in ("staging", "production") and (
            self.PASSWORD_HASH_TIME_COST < 2 or self.PASSWORD_HASH_MEMORY_KIB < 19456
        ):
            raise ValueError(
                "PASSWORD_HASH_TIME_COST/PASSWORD_HASH_MEMORY_KIB are below OWASP's Argon2id "
                "minimum (2 passes, 19456 KiB); lower values are for tests only."
            )
        if self.AGENT_HTTP_TEST_HOSTS and self.APP_ENV in ("staging", "production"):
            raise ValueError(
                "AGENT_HTTP_TEST_HOSTS lets agent tools reach loopback/private addresses; "
                "it is for tests and local development only and is refused in staging/production."
            )
        import re

        for name in ("CHAT_IMAGE_ALLOWED_ORIGINS", "CSP_CONNECT_SRC_ORIGINS"):
            values = getattr(self, name)
            for origin in [values] if isinstance(values, str) else values:
                # Origins go into the Content-Security-Policy header verbatim.
                if not re.fullmatch(r"(https?|wss?)://[^\s;,'\"/]+/?", origin):
                    raise ValueError(
                        f"{name}: {origin!r} is not an origin like https://host[:port]"
                    )
        try:
            load_policy(self.AGENT_GUARDRAIL_POLICY_FILE, self.AGENT_GUARDRAIL_BLOCKED_PATTERNS)
        except PolicyError as exc:
            raise ValueError(f"Invalid guardrail policy: {exc}") from None
        return self

    @property
    def redis_url(self) -> str | None:
        """REDIS_URL, or a URL built from REDIS_HOST/PORT/PASSWORD/DB; None when Redis is off."""
        if self.REDIS_URL:
            return self.REDIS_URL
        if not self.REDIS_HOST:
            return None
        from urllib.parse import quote

        auth = f":{quote(self.REDIS_PASSWORD, safe='')}@" if self.REDIS_PASSWORD else ""
        return f"redis://{auth}{self.REDIS_HOST}:{self.REDIS_PORT}/{self.REDIS_DB}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings object."""
    return Settings()


settings = get_settings()
