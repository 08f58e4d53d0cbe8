#!/usr/bin/env bash
# Regenerate the frontend's API client: dump the backend's OpenAPI to frontend/openapi.json,
# then run @hey-api/openapi-ts (frontend/openapi-ts.config.ts) into frontend/src/client/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export UV_PYTHON_DOWNLOADS=never

cd "$ROOT/backend"
# APP_ENV=test keeps a developer's .env (keys, URLs) out of the spec dump.
APP_ENV=test uv run --quiet python -c \
  "import json; from app.main import app; print(json.dumps(app.openapi(), indent=2))" \
  > "$ROOT/frontend/openapi.json.tmp"
mv "$ROOT/frontend/openapi.json.tmp" "$ROOT/frontend/openapi.json"

cd "$ROOT/frontend"
if [ ! -d node_modules ]; then
  npm ci
fi
npm run --silent generate-client
echo "Client regenerated: frontend/openapi.json, frontend/src/client/"
