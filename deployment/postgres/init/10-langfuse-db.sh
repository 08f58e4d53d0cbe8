#!/bin/sh
# Create Langfuse's own database next to the application's, on the volume's first start only
# (the postgres image runs /docker-entrypoint-initdb.d/ scripts when the data directory is empty).
set -eu

db="${LANGFUSE_POSTGRES_DB:-langfuse}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  --set db="$db" <<'SQL'
SELECT format('CREATE DATABASE %I', :'db')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')\gexec
SQL
