#!/usr/bin/env bash
# Start the backend the way production does, without Docker (the backend image runs this too):
#   1. APP_ENV=production by default; secrets come from the environment (the app refuses to
#      start when SECRET_KEY or a password is missing or a default, naming the variable);
#   2. `python -m app.prestart` once: wait for the database, migrate, checkpoint tables, superuser
#      (skipped with RUN_PRESTART=false, e.g. when compose runs it as its own service);
#   3. PROMETHEUS_MULTIPROC_DIR created and emptied, so /metrics aggregates only these workers;
#   4. WEB_CONCURRENCY uvicorn workers on HOST:PORT with JSON logs (scripts/serve_production.py).
#
# Usage: SECRET_KEY=... FIRST_SUPERUSER_PASSWORD=... DATABASE_URL=postgresql://... \
#        REDIS_URL=redis://... WEB_CONCURRENCY=4 scripts/serve-production.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BACKEND_DIR="${BACKEND_DIR:-$ROOT/backend}"

export APP_ENV="${APP_ENV:-production}"
export WEB_CONCURRENCY="${WEB_CONCURRENCY:-2}"
export HOST="${HOST:-127.0.0.1}"
export PORT="${PORT:-8000}"
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${TMPDIR:-/tmp}/agent-template-metrics-$PORT}"
export UV_PYTHON_DOWNLOADS=never
export PYTHONUNBUFFERED=1

# The project's virtualenv (`cd backend && uv sync --frozen --no-dev` creates it); PYTHON overrides.
PYTHON="${PYTHON:-$BACKEND_DIR/.venv/bin/python}"
if [ ! -x "$PYTHON" ]; then
  echo "serve-production: $PYTHON not found; run 'cd backend && uv sync --frozen --no-dev' first" >&2
  exit 1
fi
if ! [[ "$WEB_CONCURRENCY" =~ ^[1-9][0-9]*$ ]]; then
  echo "serve-production: WEB_CONCURRENCY must be a positive integer, got '$WEB_CONCURRENCY'" >&2
  exit 2
fi

cd "$BACKEND_DIR"

if [ "${RUN_PRESTART:-true}" != "false" ]; then
  # Without the multiprocess dir: prestart's own metrics must not end up in the workers' totals.
  env -u PROMETHEUS_MULTIPROC_DIR "$PYTHON" -m app.prestart
fi

# prometheus_client picks multiprocess mode at import time from this variable; stale files from
# a previous run would be summed into the new totals, so the directory starts empty.
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -type f -name '*.db' -delete

exec "$PYTHON" "$ROOT/scripts/serve_production.py"
