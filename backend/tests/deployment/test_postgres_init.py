"""deployment/postgres/init/: Langfuse's database is created next to the app's, idempotently."""

import os
import subprocess
import uuid

import psycopg

from tests.deployment.support import DEPLOYMENT_DIR
from tests.support.postgres import PostgresServer

INIT_SCRIPT = DEPLOYMENT_DIR / "postgres" / "init" / "10-langfuse-db.sh"


def test_init_script_creates_the_langfuse_database(postgres_server: PostgresServer) -> None:
    name = f"langfuse_{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        # What the postgres image's entrypoint provides, pointed at the test server.
        "POSTGRES_USER": postgres_server.user,
        "POSTGRES_DB": "postgres",
        "LANGFUSE_POSTGRES_DB": name,
        "PGHOST": "127.0.0.1",
        "PGPORT": str(postgres_server.port),
    }
    for _ in range(2):  # a second run (e.g. a re-used volume) must not fail
        result = subprocess.run(
            ["sh", str(INIT_SCRIPT)], env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
    with psycopg.connect(postgres_server.url(driver="postgresql"), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        assert found == (1,)
        conn.execute(f'DROP DATABASE "{name}"')
