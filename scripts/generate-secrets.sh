#!/usr/bin/env bash
# Write strong random secrets into .env (created from .env.example when missing).
#
# A secret is generated only when its current value is empty or a placeholder (contains CHANGEME,
# or is "changethis"); existing real values are kept, so running this again changes nothing.
# --force regenerates every secret. Secret values are never printed, only their names.
#
# Usage: scripts/generate-secrets.sh [--force] [--env-file PATH] [--example PATH]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENV_FILE="$ROOT/.env"
EXAMPLE_FILE="$ROOT/.env.example"
FORCE=false

while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=true ;;
    --env-file) ENV_FILE="$2"; shift ;;
    --example) EXAMPLE_FILE="$2"; shift ;;
    -h|--help) sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "generate-secrets: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

# NAME:KIND — hexN = N random bytes as 2N hex characters (safe in URLs and shell);
# pk/sk = Langfuse-style project keys shared by the backend and the compose Langfuse.
SECRETS=(
  SECRET_KEY:hex32
  FIRST_SUPERUSER_PASSWORD:hex16
  POSTGRES_PASSWORD:hex24
  REDIS_PASSWORD:hex24
  NEXTAUTH_SECRET:hex32
  SALT:hex32
  ENCRYPTION_KEY:hex32
  CLICKHOUSE_PASSWORD:hex24
  MINIO_ROOT_PASSWORD:hex24
  LANGFUSE_INIT_USER_PASSWORD:hex16
  LANGFUSE_PUBLIC_KEY:pk
  LANGFUSE_SECRET_KEY:sk
  GRAFANA_ADMIN_PASSWORD:hex16
  METRICS_BEARER_TOKEN:hex32
)

random_hex() {
  # /dev/urandom through od: no dependency on openssl or python on the host.
  od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

generate() {
  case "$1" in
    hex*) random_hex "${1#hex}" ;;
    pk) printf 'pk-lf-%s' "$(random_hex 16)" ;;
    sk) printf 'sk-lf-%s' "$(random_hex 16)" ;;
    *) echo "generate-secrets: unknown kind $1" >&2; exit 2 ;;
  esac
}

current_value() {
  # The last assignment wins, as in dotenv; surrounding quotes are dropped.
  local value
  value="$(awk -v key="$1" 'index($0, key "=") == 1 { v = substr($0, length(key) + 2) } END { print v }' "$ENV_FILE")"
  value="${value%\"}"; value="${value#\"}"
  value="${value%\'}"; value="${value#\'}"
  printf '%s' "$value"
}

is_placeholder() {
  [ -z "$1" ] || [ "$1" = "changethis" ] || [[ "$1" == *CHANGEME* ]]
}

set_value() {
  local tmp
  tmp="$(mktemp "$ENV_FILE.XXXXXX")"
  awk -v key="$1" -v value="$2" '
    index($0, key "=") == 1 { if (!done) print key "=" value; done = 1; next }
    { print }
    END { if (!done) print key "=" value }
  ' "$ENV_FILE" > "$tmp"
  chmod 600 "$tmp"
  mv "$tmp" "$ENV_FILE"
}

umask 077
if [ ! -f "$ENV_FILE" ]; then
  if [ ! -f "$EXAMPLE_FILE" ]; then
    echo "generate-secrets: neither $ENV_FILE nor $EXAMPLE_FILE exists" >&2
    exit 1
  fi
  cp "$EXAMPLE_FILE" "$ENV_FILE"
  echo "Created $ENV_FILE from $(basename "$EXAMPLE_FILE")"
fi
chmod 600 "$ENV_FILE"

changed=()
for entry in "${SECRETS[@]}"; do
  name="${entry%%:*}"
  kind="${entry#*:}"
  if [ "$FORCE" = true ] || is_placeholder "$(current_value "$name")"; then
    set_value "$name" "$(generate "$kind")"
    changed+=("$name")
  fi
done

if [ ${#changed[@]} -eq 0 ]; then
  echo "No placeholder secrets left in $ENV_FILE; nothing changed (use --force to regenerate)."
else
  echo "Generated in $ENV_FILE: ${changed[*]}"
  if [ "$FORCE" = true ]; then
    echo "Note: PostgreSQL, ClickHouse and MinIO keep the passwords they were first started with;" \
      "after --force on an existing deployment, change them there too (see deployment/README.md)." >&2
  fi
fi
