"""API fuzzing with schemathesis: every answer is documented in our OpenAPI, and none is a 5xx.

The app runs as real uvicorn processes on loopback (their own event loops and connection pools),
on the harness's database: one with rate limits off, one with small limits kept in a real Redis
(so 429s and their bodies are exercised too). schemathesis sends explicit examples and generated
valid and invalid data to every operation, as a normal user, and checks each response: not a
server error, a status code the operation documents, its documented content type, a body that
matches the documented schema (validation errors: FastAPI's array; every other error:
`{detail, code}`), and that every error is a JSON object with a `detail`.

Bounded: MAX_EXAMPLES generated examples per operation and server, no shrinking, a 30 s request
timeout.
"""

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.postgres import free_port
from tests.support.processes import start_api, stop, wait_healthy
from tests.support.redis import RedisServer, start_redis
from tests.utils import API, create_user, random_lower_string

PROTOCOL = "/agent-protocol"  # AGENT_PROTOCOL_PATH's default
MAX_EXAMPLES = 8
REQUEST_TIMEOUT = 30
# The second server: limits small enough that the fuzzer runs into them on every limited route.
LIMITED_ENV = {
    "RATE_LIMIT_ENABLED": "true",
    "RATE_LIMIT_PER_MINUTE": "3",
    "AUTH_RATE_LIMIT_PER_MINUTE": "3",
}

# Excluded operations, each with its reason:
EXCLUDED = [
    # Server-Sent Events: the response is an open-ended stream, not a bounded request.
    ("POST", f"{API}/agent/run/stream"),
    ("POST", f"{PROTOCOL}/threads/{{thread_id}}/runs/stream"),
    ("GET", f"{PROTOCOL}/threads/{{thread_id}}/runs/{{run_id}}/stream"),
    ("POST", f"{PROTOCOL}/runs/stream"),
    # Deletes the fuzzing user, so every later request would only see 404 "User not found".
    # Covered by tests/api/routes/test_users.py.
    ("DELETE", f"{API}/users/me"),
    # End the fuzzing user's session, so every later request would only see 401.
    # Covered by tests/api/routes/test_sessions.py.
    ("POST", f"{API}/logout"),
    ("POST", f"{API}/logout/all"),
]


class ClientErrorWithoutDetail(AssertionError):
    """An error whose body isn't a JSON object with `detail` (and `code` unless a 422 list)."""


def client_error_has_json_detail(ctx: Any, response: Any, case: schemathesis.Case) -> None:
    """Every 4xx/5xx answers JSON with `detail`: a validation list, or a message and a `code`."""
    if response.status_code < 400:
        return
    content_type = (response.headers.get("content-type") or [""])[0]
    try:
        body = response.json()
    except ValueError:
        body = None
    if not content_type.startswith("application/json") or not isinstance(body, dict):
        raise ClientErrorWithoutDetail(
            f"{case.method} {case.formatted_path}: {response.status_code} is not a JSON object "
            f"({content_type!r}): {response.text[:200]!r}"
        )
    if "detail" not in body:
        raise ClientErrorWithoutDetail(
            f"{case.method} {case.formatted_path}: {response.status_code} has no `detail`: {body}"
        )
    if not isinstance(body["detail"], list) and not isinstance(body.get("code"), str):
        raise ClientErrorWithoutDetail(
            f"{case.method} {case.formatted_path}: {response.status_code} has no `code`: {body}"
        )


@pytest.fixture(scope="module")
def fuzz_redis() -> Iterator[RedisServer]:
    """A redis-server for the limited server's rate-limit buckets (and its run layer)."""
    server = start_redis()
    yield server
    server.close()


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, fuzz_redis: RedisServer
) -> Iterator[dict[str, str]]:
    """Two `uvicorn app.main:app` processes on loopback: limits off (the test default), and
    small limits shared through Redis. Started one after the other: each gets the whole start-up
    deadline on a busy machine.
    """
    envs = {
        "limits-off": {"RATE_LIMIT_ENABLED": "false"},
        "limits-on": {**LIMITED_ENV, "REDIS_URL": fuzz_redis.url},
    }
    started: dict[str, tuple[subprocess.Popen[bytes], int, Path]] = {}
    try:
        for name, overrides in envs.items():
            log_path = tmp_path_factory.mktemp(f"fuzz-{name}") / "server.log"
            port = free_port()
            # One token serves the whole module: it must outlive the run (default: 15 min).
            env = {
                **os.environ,
                "LOG_LEVEL": "WARNING",
                "ACCESS_TOKEN_EXPIRE_MINUTES": "240",
                **overrides,
            }
            process = start_api(port, env, log_path)
            started[name] = (process, port, log_path)
            wait_healthy(process, port, log_path)
        yield {name: f"http://127.0.0.1:{port}" for name, (_, port, _) in started.items()}
    finally:
        stop([process for process, _, _ in started.values()])
        for name, (_, _, log_path) in started.items():
            if errors := server_errors(log_path):
                # Surfaces the tracebacks behind any 500 in the test output.
                print(f"--- {name} server log errors ({log_path}) ---\n{errors}")


def server_errors(log: Path) -> str:
    """The server log from its first traceback or unhandled error on, if any."""
    text = log.read_text()
    for marker in ("Traceback", "request.unhandled_error"):
        if marker in text:
            return text[text.index(marker) :][-6000:]
    return ""


@pytest.fixture(autouse=True)
def clean_db() -> None:
    """Replaces the harness's per-test clean-up here: one user fuzzes every operation in turn.

    Data the fuzzer creates accumulates across operations (closer to a real, used database);
    the next test module starts clean again through the harness's own fixture.
    """


@pytest.fixture(scope="module")
async def fuzz_user() -> tuple[str, str]:
    """A normal user for the whole module."""
    password = random_lower_string(16)
    user, _ = await create_user(password=password)
    return user.email, password


@pytest.fixture(scope="module")
def fuzz_headers(servers: dict[str, str], fuzz_user: tuple[str, str]) -> dict[str, dict[str, str]]:
    """Bearer headers by role (the token is valid on both servers)."""
    email, password = fuzz_user
    response = httpx.post(
        f"{servers['limits-off']}{API}/login/access-token",
        data={"username": email, "password": password},
        timeout=REQUEST_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return {"normal-user": {"Authorization": f"Bearer {response.json()['access_token']}"}}


def load_schema() -> schemathesis.BaseSchema:
    """Our OpenAPI document, minus the excluded operations.

    Loaded at collection time from the app object (the harness has set the environment by then)
    because `schemathesis.pytest.from_fixture` fails on pytest 9.2 (it sets `node._nodeid`).
    """
    from app.main import app

    loaded = schemathesis.openapi.from_dict(app.openapi())
    for method, path in EXCLUDED:
        loaded = loaded.exclude(method=method, path=path)
    return loaded


schema = load_schema()


# The role is a real parameter (whose token the requests carry) and, with the server, it also
# gives each operation its own node id: on pytest 9.2 schemathesis' eager items otherwise all
# share one id.
@pytest.mark.parametrize("limits", ["limits-off", "limits-on"])
@pytest.mark.parametrize("role", ["normal-user"])
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api_answers_as_documented(
    case: schemathesis.Case,
    role: str,
    limits: str,
    servers: dict[str, str],
    fuzz_headers: dict[str, dict[str, str]],
) -> None:
    case.call_and_validate(
        base_url=servers[limits],
        headers=fuzz_headers[role],
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            client_error_has_json_detail,
        ],
        timeout=REQUEST_TIMEOUT,
    )


def test_excluded_operations_exist() -> None:
    """Every exclusion names a real operation (a renamed route must not silently drop out)."""
    raw_paths = schema.raw_schema["paths"]
    for method, path in EXCLUDED:
        assert method.lower() in raw_paths.get(path, {}), f"{method} {path} is not in the schema"


class FakeResponse:
    """Just enough of a schemathesis response for the custom check."""

    def __init__(self, status_code: int, body: str, content_type: str) -> None:
        self.status_code = status_code
        self.text = body
        self.headers = {"content-type": [content_type]}

    def json(self) -> Any:
        import json

        return json.loads(self.text)


@pytest.mark.parametrize(
    ("status", "body", "content_type", "fails"),
    [
        (404, '{"detail": "Item not found", "code": "not_found"}', "application/json", False),
        (404, '{"detail": "Item not found"}', "application/json", True),
        (503, '{"detail": "busy"}', "application/json", True),
        (422, '{"detail": [{"loc": ["body"]}]}', "application/json", False),
        (200, "plain", "text/plain", False),
        (404, "Not Found", "text/plain", True),
        (400, '{"error": "x"}', "application/json", True),
        (403, "[]", "application/json", True),
    ],
)
def test_client_error_check_can_fail(
    status: int, body: str, content_type: str, fails: bool
) -> None:
    """The custom check rejects errors without a JSON `detail` (and `code`), and only those."""

    class Case:
        method = "GET"
        formatted_path = "/x"

    response = FakeResponse(status, body, content_type)
    if fails:
        with pytest.raises(ClientErrorWithoutDetail):
            client_error_has_json_detail(None, response, Case())  # type: ignore[arg-type]
    else:
        client_error_has_json_detail(None, response, Case())  # type: ignore[arg-type]
