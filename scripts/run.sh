#!/usr/bin/env bash
# Run the whole app locally: API + built frontend on http://localhost:8000.
# No Docker and no API keys needed: SQLite and the offline model are the embedded defaults.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${PORT:-8000}"
backend_sync
frontend_install
log "Building the frontend"
(cd "$ROOT/frontend" && npm run --silent build >/dev/null)

cd "$ROOT/backend"
log "Applying migrations and creating the first superuser"
uv run --frozen python -m app.prestart
eval "$(uv run --frozen python - <<'PY'
import shlex

DEMO_TOKENS_PER_SECOND = 30

from app.core.config import settings

local = settings.APP_ENV == "local"
password = settings.FIRST_SUPERUSER_PASSWORD if local else "(FIRST_SUPERUSER_PASSWORD from your settings)"
values = {
    "LOGIN_EMAIL": settings.FIRST_SUPERUSER,
    "LOGIN_PASSWORD": password,
    "MODEL": f"{settings.llm_provider}/{settings.llm_model_name}",
    "DATABASE": settings.SQLALCHEMY_DATABASE_URI.split("://")[0],
}
for name, value in values.items():
    print(f"{name}={shlex.quote(value)}")
# The offline model answers instantly, so a first-time user would never see tokens arrive:
# stream at a human pace unless OFFLINE_MODEL_TOKENS_PER_SECOND is set (environment or .env).
if "OFFLINE_MODEL_TOKENS_PER_SECOND" not in settings.model_fields_set:
    print(f"export OFFLINE_MODEL_TOKENS_PER_SECOND={DEMO_TOKENS_PER_SECOND}")
PY
)"
cat <<MSG

  App:      http://localhost:${PORT}
  API docs: http://localhost:${PORT}/docs
  Login:    ${LOGIN_EMAIL} / ${LOGIN_PASSWORD}
  Model:    ${MODEL}   Database: ${DATABASE}

MSG
exec uv run --frozen uvicorn app.main:app --host "${HOST:-0.0.0.0}" --port "$PORT" --no-proxy-headers
