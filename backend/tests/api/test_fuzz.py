"""API fuzzing with schemathesis: generated requests from our OpenAPI never get a 5xx.

The app runs as a real uvicorn process on loopback (its own event loop and connection pools), on
the harness's database; schemathesis sends examples, property-based fuzzing (valid and invalid
data) and boundary-value cases to every operation, as a normal user. Every response must be
below 500, and every 4xx must carry a JSON `detail` (rule 4 of the developers' guide).

Bounded: 15 generated examples per operation (plus schemathesis' explicit examples and boundary
cases), no shrinking, a 30 s request timeout, and pytest-timeout's limit on each operation.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

from tests.support.postgres import free_port
from tests.support.processes import start_api, stop, wait_healthy
from tests.utils import API, create_user, random_lower_string

MAX_EXAMPLES = 15
REQUEST_TIMEOUT = 30

# Excluded operations, each with its reason:
EXCLUDED = [
    # Server-Sent Events: the response is an open-ended stream, not a bounded request.
    ("POST", f"{API}/agent/run/stream"),
    # Deletes the fuzzing user, so every later request would only see 404 "User not found".
    # Covered by tests/api/routes/test_users.py.
    ("DELETE", f"{API}/users/me"),
    # End the fuzzing user's session, so every later request would only see 401.
    # Covered by tests/api/routes/test_sessions.py.
    ("POST", f"{API}/logout"),
    ("POST", f"{API}/logout/all"),
]


class ClientErrorWithoutDetail(AssertionError):
    """A 4xx whose body isn't a JSON object with `detail`."""


def client_error_has_json_detail(ctx: Any, response: Any, case: schemathesis.Case) -> None:
    """Every 4xx answers JSON with a `detail` key."""
    if not 400 <= response.status_code < 500:
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


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`uvicorn app.main:app` on a free loopback port, against the harness's database."""
    log_path = tmp_path_factory.mktemp("fuzz") / "server.log"
    port = free_port()
    # One token serves the whole module: it must outlive the run (default lifetime: 15 min).
    env = {**os.environ, "LOG_LEVEL": "WARNING", "ACCESS_TOKEN_EXPIRE_MINUTES": "240"}
    process = start_api(port, env, log_path)
    try:
        wait_healthy(process, port, log_path)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop([process])
        errors = server_errors(log_path)
        if errors:
            # Surfaces the tracebacks behind any 500 in the test output.
            print(f"--- server log errors ({log_path}) ---\n{errors}")


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
def fuzz_headers(live_server: str, fuzz_user: tuple[str, str]) -> dict[str, dict[str, str]]:
    """Bearer headers by role, with tokens from the live server."""
    email, password = fuzz_user
    response = httpx.post(
        f"{live_server}{API}/login/access-token",
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


# The role is a real parameter (whose token the requests carry) and it also gives each operation
# its own node id: on pytest 9.2 schemathesis' eager items otherwise all share one id.
@pytest.mark.parametrize("role", ["normal-user"])
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api_never_answers_5xx(
    case: schemathesis.Case, role: str, live_server: str, fuzz_headers: dict[str, dict[str, str]]
) -> None:
    case.call_and_validate(
        base_url=live_server,
        headers=fuzz_headers[role],
        checks=[not_a_server_error, client_error_has_json_detail],
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
        (404, '{"detail": "Item not found"}', "application/json", False),
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
    """The custom check rejects 4xx answers without a JSON `detail`, and only those."""

    class Case:
        method = "GET"
        formatted_path = "/x"

    response = FakeResponse(status, body, content_type)
    if fails:
        with pytest.raises(ClientErrorWithoutDetail):
            client_error_has_json_detail(None, response, Case())  # type: ignore[arg-type]
    else:
        client_error_has_json_detail(None, response, Case())  # type: ignore[arg-type]
