#!/usr/bin/env bash
# Run every check: lint, type checks, backend tests (real PostgreSQL + Redis started by the
# harness), coverage, frontend lint/type/unit tests, the generated-client check, the Agent
# Protocol contract tests with the JS SDK, and the browser end-to-end tests in Debian's
# chromium. Exits non-zero on any failure.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$ROOT/scripts/install-test-deps.sh"

cd "$ROOT/backend"
log "Backend lint, types and layers: ruff, ruff format --check, mypy (strict on app/), import-linter"
uv run --frozen ruff check app tests scripts
uv run --frozen ruff format --check app tests scripts
uv run --frozen mypy app
uv run --frozen lint-imports --no-cache

run_pytest() {
  # pytest's exit code 5 ("no tests collected") is a failure here, never a silent pass.
  local code=0
  uv run --frozen pytest "$@" || code=$?
  if [ "$code" -eq 5 ]; then die "pytest collected no tests: $*"; fi
  return "$code"
}

log "Backend tests on PostgreSQL (with coverage), two pytest-xdist workers"
rm -f .coverage .coverage.*
# Each worker starts its own PostgreSQL and servers (every test harness port is a free one);
# loadfile keeps a module's tests, and its module-scoped servers, on one worker.
COVERAGE_FILE=.coverage.postgres run_pytest -q -p no:cacheprovider -n 2 --dist loadfile \
  --cov=app --cov-report=
log "Backend tests on SQLite (migrations, auth, constraints, the agent and its Agent Protocol)"
TEST_DATABASE=sqlite COVERAGE_FILE=.coverage.sqlite run_pytest -q -p no:cacheprovider --cov=app --cov-report= \
  tests/test_migrations.py tests/api/routes/test_login.py tests/agents/test_sqlite_agent.py tests/agents/test_retention.py tests/api/routes/test_user_data.py \
  tests/api/test_constraints.py tests/protocol/test_sdk_contract.py \
  "tests/agents/test_threads_polish.py::test_search_matches_titles_and_messages_of_own_threads_only"
uv run --frozen coverage combine -q .coverage.postgres .coverage.sqlite
uv run --frozen coverage report --fail-under=90 --skip-covered --sort=cover | tail -25

cd "$ROOT/frontend"
log "Frontend lint, types, generated client, unit tests"
npm run --silent lint
npm run --silent typecheck
npm run --silent check-client
npm test --silent
log "Agent Protocol contract tests: @langchain/langgraph-sdk (Client, useStream) against the real backend"
npm run --silent test:protocol
log "Frontend build and browser end-to-end tests (Debian chromium)"
npm run --silent build
npm run --silent test:e2e

log "All checks passed"
