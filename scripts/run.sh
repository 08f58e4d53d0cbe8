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
eval "$(uv run --frozen python -c '
from app.core.config import settings
print(f"LOGIN_EMAIL={settings.FIRST_SUPERUSER}")
print(f"LOGIN_PASSWORD={settings.FIRST_SUPERUSER_PASSWORD if settings.APP_ENV == \"local\" else \"(FIRST_SUPERUSER_PASSWORD from your settings)\"}")
print(f"MODEL={settings.llm_provider}/{settings.llm_model_name}")
print(f"DATABASE={settings.SQLALCHEMY_DATABASE_URI.split(\"://\")[0]}")
' 2>/dev/null)"
cat <<MSG

  App:      http://localhost:${PORT}
  API docs: http://localhost:${PORT}/docs
  Login:    ${LOGIN_EMAIL} / ${LOGIN_PASSWORD}
  Model:    ${MODEL}   Database: ${DATABASE}

MSG
exec uv run --frozen uvicorn app.main:app --host "${HOST:-0.0.0.0}" --port "$PORT" --no-proxy-headers
