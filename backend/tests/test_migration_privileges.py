"""Migrations on PostgreSQL under a database role that isn't a superuser (what managed databases
give an app): what it can't do is reported with what to run instead. PostgreSQL only; test.sh runs
this file in its PostgreSQL pass."""

import uuid

import psycopg
import pytest
from alembic import command
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from tests.test_migrations import alembic_config, sync_url


def test_a_role_that_cannot_create_pg_trgm_gets_told_what_to_do(postgres_server) -> None:
    """Migration 0017 needs pg_trgm: a database role without the right to create it gets an
    error that says what to run, and once the extension exists the migration goes through."""
    name = f"migrations_{uuid.uuid4().hex[:12]}"
    role = f"app_{uuid.uuid4().hex[:8]}"
    admin = postgres_server.url(driver="postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        with psycopg.connect(postgres_server.url(name, driver="postgresql"), autocommit=True) as c:
            c.execute(f'GRANT ALL ON SCHEMA public TO "{role}"')  # tables yes, extensions no
        url = make_url(postgres_server.url(name)).set(username=role).render_as_string(False)
        with pytest.raises(RuntimeError, match="CREATE EXTENSION pg_trgm"):
            command.upgrade(alembic_config(url), "head")
        with psycopg.connect(postgres_server.url(name, driver="postgresql"), autocommit=True) as c:
            c.execute("CREATE EXTENSION pg_trgm")
        command.upgrade(alembic_config(url), "head")
        engine = create_engine(sync_url(url))
        try:
            indexes = {i["name"] for i in inspect(engine).get_indexes("agent_run")}
        finally:
            engine.dispose()
        assert "ix_agent_run_input_trgm" in indexes
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')
