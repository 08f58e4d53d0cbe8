"""The Agent Protocol stream says at its end whether the run was degraded, to the real
`langgraph_sdk` client: a closing `metadata` event before `end`, on every stream."""

from typing import Any

from langgraph_sdk import get_client

from app.core.config import settings
from tests.fakes.llm_script import error
from tests.resilience.conftest import primary_with_fallback
from tests.support.live_server import serve
from tests.utils import create_user_and_login

INPUT = {"messages": [{"type": "human", "content": "hello"}]}
MODES = ["values", "messages-tuple", "custom"]


def closing(parts: list[Any]) -> dict[str, Any]:
    """The stream's last event before `end`, which must be the closing `metadata`."""
    names = [part.event for part in parts]
    assert names[0] == "metadata" and names[-2:] == ["metadata", "end"], names
    assert names.count("metadata") == 2, names
    return dict(parts[-2].data)


async def test_protocol_streams_end_with_mode_reason_and_model(
    agent_settings: Any, openai_stub: Any, app_client: Any
) -> None:
    agent_settings(**primary_with_fallback(openai_stub))
    primary_down = True
    openai_stub.set_responder(
        lambda body: error(500) if primary_down and body["model"] == "stub-model" else None
    )
    async with app_client() as ac, serve(ac.app, lifespan="off") as base:
        headers, _ = await create_user_and_login(ac.http)
        client = get_client(url=base + settings.AGENT_PROTOCOL_PATH, headers=headers)
        thread = (await client.threads.create())["thread_id"]
        streamed = [
            p async for p in client.runs.stream(thread, "agent", input=INPUT, stream_mode=MODES)
        ]
        run_id = streamed[0].data["run_id"]
        joined = [p async for p in client.runs.join_stream(thread, run_id, stream_mode=MODES)]
        stateless = [p async for p in client.runs.stream(None, "agent", input=INPUT)]
        primary_down = False
        normal = [p async for p in client.runs.stream(thread, "agent", input=INPUT)]
        recorded = await client.runs.get(thread, run_id)  # the run's metadata says the same
    assert {k: recorded["metadata"][k] for k in ("mode", "model")} == {
        "mode": "degraded",
        "model": "stub-fallback",
    }

    degraded = {"mode": "degraded", "degraded_reason": "fallback", "model": "stub-fallback"}
    first = closing(streamed)
    assert first == {"run_id": run_id, "attempt": 1, "status": "success", **degraded}
    assert closing(joined) == first  # a rejoin ends the same way
    last = closing(stateless)
    assert {k: last[k] for k in degraded} == degraded and last["run_id"] != run_id
    assert closing(normal) | {"run_id": None} == {
        "run_id": None,
        "attempt": 1,
        "status": "success",
        "mode": "normal",
        "degraded_reason": None,
        "model": "stub-model",
    }
