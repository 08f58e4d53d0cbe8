"""Conversations: titles from the first exchange, rename, search; one tool status everywhere."""

import asyncio
import json
import logging
import uuid

import pytest

from app.agents.titles import trimmed_title
from app.core import telemetry
from app.core.db import SessionMaker
from app.crud import thread as crud_thread
from app.services.runs import runtime
from tests.agents.conftest import openai_stub_settings
from tests.fakes.langfuse import LangfuseFake
from tests.fakes.llm_script import Usage, error, structured, text
from tests.support.sse import collect_sse
from tests.utils import API, create_user_and_login


async def _run(client, headers, message: str, thread_id: str | None = None) -> dict:
    body = {"message": message, **({"thread_id": thread_id} if thread_id else {})}
    response = await client.post(f"{API}/agent/run", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _threads(client, headers, **params) -> dict:
    response = await client.get(f"{API}/agent/threads", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_trimmed_title_is_one_readable_line() -> None:
    assert trimmed_title("  show   my\nitems ") == "show my items"
    long = "please " + "summarise the quarterly numbers " * 5
    title = trimmed_title(long)
    assert len(title) <= 60 and title.endswith("…") and "  " not in title
    assert not title[:-1].endswith(" ")  # cut at a word, not mid-word
    assert trimmed_title('"quoted"') == "quoted"
    assert trimmed_title("   ") == ""


async def test_offline_title_is_the_trimmed_first_message(client) -> None:
    headers, _ = await create_user_and_login(client)
    first = await _run(client, headers, "  show my   items  ")
    await _run(client, headers, "and the next one", first["thread_id"])
    [thread] = (await _threads(client, headers))["data"]
    assert thread["title"] == "show my items"  # the second message doesn't change it


async def test_rename_is_owner_only_and_validated(client) -> None:
    headers, _ = await create_user_and_login(client)
    other, _ = await create_user_and_login(client)
    run = await _run(client, headers, "hello there")
    url = f"{API}/agent/threads/{run['thread_id']}"

    renamed = await client.patch(url, json={"title": "  Trip   planning "}, headers=headers)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["title"] == "Trip planning" and renamed.json()["run_count"] == 1
    assert (await client.get(url, headers=headers)).json()["title"] == "Trip planning"

    # Another user's thread, and one that doesn't exist: 404, and nothing changes.
    foreign = await client.patch(url, json={"title": "mine now"}, headers=other)
    assert foreign.status_code == 404 and foreign.json()["detail"]
    missing = await client.patch(
        f"{API}/agent/threads/{uuid.uuid4()}", json={"title": "x"}, headers=headers
    )
    assert missing.status_code == 404
    assert (await client.get(url, headers=headers)).json()["title"] == "Trip planning"

    for bad in ({"title": ""}, {"title": "   "}, {"title": "x" * 121}, {"title": "a\x00b"}, {}):
        response = await client.patch(url, json=bad, headers=headers)
        assert response.status_code == 422, (bad, response.text)
        assert response.headers["content-type"].startswith("application/json")
        assert isinstance(response.json()["detail"], list), response.text
    assert (await client.patch(url, json={"title": "x" * 120}, headers=headers)).status_code == 200
    unauthenticated = await client.patch(url, json={"title": "x"})
    assert unauthenticated.status_code == 401


async def test_search_matches_titles_and_messages_of_own_threads_only(client) -> None:
    headers, _ = await create_user_and_login(client)
    other, _ = await create_user_and_login(client)
    items = await _run(client, headers, "show my items")
    weather = await _run(client, headers, "what is 100% of the weather")
    await _run(client, headers, "a follow-up about kayaks", weather["thread_id"])
    await _run(client, other, "show my items too")
    await client.patch(
        f"{API}/agent/threads/{items['thread_id']}", json={"title": "Inventory"}, headers=headers
    )

    def ids(page: dict) -> set[str]:
        return {t["thread_id"] for t in page["data"]}

    assert ids(await _threads(client, headers, q="INVENT")) == {items["thread_id"]}  # title
    found = await _threads(client, headers, q="kayak")  # a later message of the thread
    assert ids(found) == {weather["thread_id"]} and found["count"] == 1
    # `%` and `_` are literal, not wildcards.
    assert ids(await _threads(client, headers, q="100%")) == {weather["thread_id"]}
    assert ids(await _threads(client, headers, q="1_0")) == set()
    # Another user's matching thread is never listed.
    assert ids(await _threads(client, headers, q="items too")) == set()
    assert ids(await _threads(client, headers, q="   ")) == {
        items["thread_id"],
        weather["thread_id"],
    }
    too_long = await client.get(f"{API}/agent/threads", params={"q": "x" * 201}, headers=headers)
    assert too_long.status_code == 422 and isinstance(too_long.json()["detail"], list)


@pytest.fixture
def use_openai(agent_settings, openai_stub):
    agent_settings(**openai_stub_settings(openai_stub))
    return openai_stub


async def _title_of(client, headers, thread_id: str) -> str:
    return (await client.get(f"{API}/agent/threads/{thread_id}", headers=headers)).json()["title"]


async def _wait_for_title(client, headers, thread_id: str, expected: str) -> str:
    for _ in range(50):
        title = await _title_of(client, headers, thread_id)
        if title == expected:
            break
        await asyncio.sleep(0.1)
    return title


async def test_model_titles_the_first_exchange_after_the_answer(
    use_openai, fresh_client_factory
) -> None:
    # Planner (no plan), answer, then the title request, made after the run has ended.
    use_openai.enqueue(
        structured({"steps": []}),
        text("Paris is the capital."),
        text("French capital city.", delay=1.0),
    )
    async with fresh_client_factory() as client:
        headers, _ = await create_user_and_login(client)
        run = await _run(client, headers, "what is the capital of france")
        assert run["response"] == "Paris is the capital."
        # The answer didn't wait for the (slow) title call: the title is still provisional.
        assert await _title_of(client, headers, run["thread_id"]) == "what is the capital of france"
        title = await _wait_for_title(client, headers, run["thread_id"], "French capital city")
        assert title == "French capital city"
        request = use_openai.requests[-1]
        prompt = json.dumps(request["messages"])
        assert "what is the capital of france" in prompt and "Paris is the capital." in prompt
        assert "tools" not in request  # a plain completion, no tools bound
        # A second run doesn't retitle.
        calls = len(use_openai.requests)
        await _run(client, headers, "and of spain", run["thread_id"])
        assert len(use_openai.requests) - calls == 2  # planner and executor only


async def test_model_title_never_overwrites_a_rename(use_openai, fresh_client_factory) -> None:
    use_openai.enqueue(
        structured({"steps": []}), text("An answer."), text("Model title", delay=0.5)
    )
    async with fresh_client_factory() as client:
        headers, _ = await create_user_and_login(client)
        async with client.stream(
            "POST", f"{API}/agent/run/stream", json={"message": "hello"}, headers=headers
        ) as response:
            events = await collect_sse(response)
        thread_id = events[0]["thread_id"]
        # Renamed as soon as the answer arrives: the model's title must not replace it.
        await client.patch(
            f"{API}/agent/threads/{thread_id}", json={"title": "Mine"}, headers=headers
        )
        await asyncio.sleep(1.5)
        assert len(use_openai.requests) == 3  # the title call was made, and lost to the rename
        assert await _title_of(client, headers, thread_id) == "Mine"


async def test_a_failing_title_call_keeps_the_trimmed_title(
    use_openai, fresh_client_factory
) -> None:
    use_openai.enqueue(structured({"steps": []}), text("An answer."), error(500))
    async with fresh_client_factory() as client:
        headers, _ = await create_user_and_login(client)
        run = await _run(client, headers, "hello world")
        assert run["status"] == "success"
        await asyncio.sleep(0.5)
        assert await _title_of(client, headers, run["thread_id"]) == "hello world"


async def _title_requested(stub, calls: int) -> None:
    for _ in range(100):
        if len(stub.requests) >= calls:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{len(stub.requests)} model calls, expected {calls}")


async def _stored_title(thread_id: str) -> str:
    async with SessionMaker() as session:
        thread = await crud_thread.get_thread(session=session, thread_id=uuid.UUID(thread_id))
    assert thread is not None
    return thread.title


@pytest.mark.parametrize("title_delay", [0.3, 3.0])
async def test_a_title_in_flight_at_shutdown_finishes_or_ends_quietly(
    title_delay, use_openai, fresh_client_factory, monkeypatch, caplog
) -> None:
    """Shutdown gives a title call in flight JOB_GRACE_S to finish; past it the title task
    ends quietly (the trimmed message stays), leaving no error log and no task behind."""
    monkeypatch.setattr(runtime, "JOB_GRACE_S", 1.0)
    use_openai.enqueue(
        structured({"steps": []}), text("An answer."), text("Model title", delay=title_delay)
    )
    async with fresh_client_factory() as client:
        headers, _ = await create_user_and_login(client)
        thread_id = (await _run(client, headers, "hello there"))["thread_id"]
        await _title_requested(use_openai, 3)
        stopping = asyncio.get_running_loop().time()
    took = asyncio.get_running_loop().time() - stopping
    expected = "Model title" if title_delay < 1.0 else "hello there"
    assert await _stored_title(thread_id) == expected
    assert took < 1.0 + 1.0, took  # the grace, and the rest of shutdown
    titles = [t for t in asyncio.all_tasks() if "title_thread" in repr(t.get_coro())]
    assert titles == [], titles
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    if title_delay > 1.0:
        await asyncio.sleep(title_delay)  # nothing still running writes the title later
        assert await _stored_title(thread_id) == "hello there"


async def _run_detail(client, headers, run_id: str) -> dict:
    return (await client.get(f"{API}/agent/runs/{run_id}", headers=headers)).json()


async def test_the_title_call_is_the_users_tokens_and_skipped_once_the_budget_is_spent(
    use_openai, agent_settings, fresh_client_factory
) -> None:
    """The title is its own queued task: its tokens are added to the run that started the
    thread (so they count against the daily budget), and a spent budget means no title call."""

    def exchange(answer: str, title: str) -> None:  # 110 + 220 tokens, then 44 for the title
        use_openai.enqueue(
            structured({"steps": []}, usage=Usage(100, 10)),
            text(answer, usage=Usage(200, 20)),
            text(title, usage=Usage(40, 4)),
        )

    exchange("Paris.", "French capital")
    agent_settings(AGENT_DAILY_TOKEN_BUDGET=10_000)
    async with fresh_client_factory() as client:
        headers, _ = await create_user_and_login(client)
        run = await _run(client, headers, "what is the capital of france")
        assert run["total_tokens"] == 330  # planner + executor: the title is not in the answer
        thread_id = run["thread_id"]
        assert await _wait_for_title(client, headers, thread_id, "French capital") == (
            "French capital"
        )
        detail = await _run_detail(client, headers, run["run_id"])  # tokens go in before it
        assert detail["prompt_tokens"] == 340 and detail["completion_tokens"] == 34
        assert detail["total_tokens"] == 374

    # A budget the first exchange uses up: the run is allowed (0 used before it), the title not.
    use_openai.reset()
    exchange("Madrid.", "Spanish capital")
    agent_settings(AGENT_DAILY_TOKEN_BUDGET=330)
    async with fresh_client_factory() as client:
        headers, _ = await create_user_and_login(client)
        run = await _run(client, headers, "and of spain")
        assert run["status"] == "success" and run["total_tokens"] == 330
        await asyncio.sleep(1.0)
        assert len(use_openai.requests) == 2  # planner and executor; no title call
        assert await _title_of(client, headers, run["thread_id"]) == "and of spain"
        assert (await _run_detail(client, headers, run["run_id"]))["total_tokens"] == 330


async def test_the_title_call_is_in_the_runs_trace(
    use_openai, agent_settings, fresh_client_factory, langfuse_fake: LangfuseFake
) -> None:
    use_openai.enqueue(
        structured({"steps": []}), text("Paris."), text("French capital", usage=Usage(40, 4))
    )
    agent_settings(
        LANGFUSE_ENABLED=True,
        LANGFUSE_PUBLIC_KEY=langfuse_fake.public_key,
        LANGFUSE_SECRET_KEY=langfuse_fake.secret_key,
        LANGFUSE_BASE_URL=langfuse_fake.url,
        LANGFUSE_PROJECT_ID=None,
        LANGFUSE_PUBLIC_URL=None,
        LANGFUSE_SAMPLE_RATE=1.0,
    )
    try:
        async with fresh_client_factory() as client:
            headers, _ = await create_user_and_login(client)
            run = await _run(client, headers, "what is the capital of france")
            await _wait_for_title(client, headers, run["thread_id"], "French capital")

            def titled() -> object | None:
                trace = langfuse_fake.trace(run["trace_id"])
                names = {obs.name for obs in trace.observations} if trace else set()
                return trace if "conversation_title" in names else None

            for _ in range(50):
                await asyncio.to_thread(telemetry.flush_telemetry)
                if titled() is not None:
                    break
                await asyncio.sleep(0.1)
            trace = langfuse_fake.trace(run["trace_id"])
            assert trace is not None
            generations = [obs for obs in trace.observations if obs.type == "GENERATION"]
            assert len(generations) == 3  # planner, executor, and the title in the same trace
            [title] = [obs for obs in trace.observations if obs.name == "conversation_title"]
            assert "French capital" in json.dumps(
                [obs.output for obs in generations if obs.parent_observation_id == title.id]
                or title.output
            )
    finally:
        agent_settings(LANGFUSE_SHUTDOWN_TIMEOUT_SECONDS=2.0)
        await telemetry.shutdown_telemetry()


async def test_tool_status_is_the_same_live_after_reload_and_in_run_detail(client) -> None:
    """A failed tool call: `failed` in the stream, in the reloaded thread and in run detail."""
    headers, _ = await create_user_and_login(client)
    message = 'use http_get with {"url": "http://10.255.255.1/secret"}'
    async with client.stream(
        "POST", f"{API}/agent/run/stream", json={"message": message}, headers=headers
    ) as response:
        events = await collect_sse(response)
    [result] = [e for e in events if e["type"] == "tool_result"]
    assert result["ok"] is False and result["status"] == "failed"
    run_id, thread_id = events[0]["run_id"], events[0]["thread_id"]

    thread = (await client.get(f"{API}/agent/threads/{thread_id}", headers=headers)).json()
    [tool_message] = [m for m in thread["messages"] if m["role"] == "tool"]
    assert tool_message["tool_status"] == "failed"

    detail = (await client.get(f"{API}/agent/runs/{run_id}", headers=headers)).json()
    [call] = detail["tool_calls"]
    assert call["status"] == "failed" and call["id"] == result["id"]
