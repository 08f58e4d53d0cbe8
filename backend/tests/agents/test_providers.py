"""Model providers over HTTP against local stubs: OpenAI-compatible and Anthropic, with faults."""

import pytest

from tests.agents.conftest import openai_stub_settings
from tests.fakes.llm_script import Reply, error, refusal, text
from tests.support.sse import collect_sse
from tests.utils import API, create_item, create_user_and_login


@pytest.fixture
def use_openai(agent_settings, openai_stub):
    """Point the agent at the OpenAI-compatible stub (apps created after this use it)."""
    agent_settings(**openai_stub_settings(openai_stub))
    return openai_stub


async def test_openai_stream_with_tool_call_and_usage(use_openai, fresh_client_factory) -> None:
    async with fresh_client_factory() as client:
        headers, user = await create_user_and_login(client)
        await create_item(user.id, title="Copper pan")
        async with client.stream(
            "POST", f"{API}/agent/run/stream", json={"message": "show my items"}, headers=headers
        ) as response:
            events = await collect_sse(response)
        types = [e["type"] for e in events]
        assert types[0] == "run_started" and types[-1] == "run_completed", types
        call = next(e for e in events if e["type"] == "tool_call")
        result = next(e for e in events if e["type"] == "tool_result")
        assert call["name"] == "lookup_user_items" and result["ok"] is True
        assert "Copper pan" in result["output"]
        assert types.count("token") >= 2
        done = events[-1]
        assert done["status"] == "success" and done["model"] == "stub-model"
        assert done["response"].startswith("Done. Tool result:")
        assert done["prompt_tokens"] > 0 and done["completion_tokens"] > 0
        models = {request["model"] for request in use_openai.requests}
        assert models == {"stub-model"} and len(use_openai.requests) == 3  # planner, executor x2
        assert all(
            request.get("stream_options", {}).get("include_usage")
            for request in use_openai.requests
            if request.get("stream")
        )


async def test_openai_429_is_retried(use_openai, agent_settings, fresh_client_factory) -> None:
    agent_settings(LLM_MAX_RETRIES=2)
    use_openai.enqueue(error(429, retry_after=0))
    async with fresh_client_factory() as client:
        headers, _ = await create_user_and_login(client)
        response = await client.post(f"{API}/agent/run", json={"message": "hello"}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "success"
        assert len(use_openai.requests) == 3  # the refused planner call, its retry, the executor


async def test_openai_planner_refusal_plans_nothing(use_openai, fresh_client_factory) -> None:
    """Structured output raises `ModelRefusalError` on a refusal (langchain-openai 1.7.4): the
    planner plans nothing, as it did when a refusal parsed to no plan, and the executor answers."""
    use_openai.enqueue(refusal("I won't plan that."), text("An answer without a plan."))
    async with fresh_client_factory() as client:
        headers, _ = await create_user_and_login(client)
        response = await client.post(f"{API}/agent/run", json={"message": "hello"}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "success"
        assert response.json()["response"] == "An answer without a plan."
        assert len(use_openai.requests) == 2  # the refused planner call, the executor


async def test_openai_500_becomes_502_and_is_recorded(use_openai, fresh_client_factory) -> None:
    use_openai.enqueue(error(500))
    async with fresh_client_factory() as client:
        headers, _ = await create_user_and_login(client)
        response = await client.post(f"{API}/agent/run", json={"message": "hello"}, headers=headers)
        assert response.status_code == 502
        body = response.json()
        assert (
            body["detail"].startswith("The model call failed") and "Traceback" not in response.text
        )
        run = (
            await client.get(f"{API}/agent/runs/{body['run']['run_id']}", headers=headers)
        ).json()
        assert run["status"] == "error" and run["error"] == body["detail"]


async def test_openai_timeout_becomes_504(use_openai, agent_settings, fresh_client_factory) -> None:
    agent_settings(LLM_TIMEOUT_SECONDS=0.5)
    use_openai.enqueue(Reply(text="late", delay=3.0))
    async with fresh_client_factory() as client:
        headers, _ = await create_user_and_login(client)
        response = await client.post(f"{API}/agent/run", json={"message": "hello"}, headers=headers)
        assert response.status_code == 504, response.text
        assert response.json()["code"] == "model_timeout"
        runs = (await client.get(f"{API}/agent/runs", headers=headers)).json()
        assert runs["data"][0]["status"] == "error"


async def test_openai_cut_off_stream_ends_with_error_event(
    use_openai, fresh_client_factory
) -> None:
    use_openai.enqueue(text("a plan"), Reply(text="this answer will be cut off " * 5, cut_after=3))
    async with fresh_client_factory() as client:
        headers, _ = await create_user_and_login(client)
        async with client.stream(
            "POST", f"{API}/agent/run/stream", json={"message": "hello"}, headers=headers
        ) as response:
            events = await collect_sse(response)
        assert events[-1]["type"] == "error" and events[-1]["code"] == "model_error", events[-1]
        run = (await client.get(f"{API}/agent/runs/{events[0]['run_id']}", headers=headers)).json()
        assert run["status"] == "error"


async def test_fallback_model_takes_over(use_openai, agent_settings, fresh_client_factory) -> None:
    agent_settings(LLM_FALLBACK_MODEL_NAME="stub-fallback")
    use_openai.set_responder(
        lambda body: error(500) if body["model"] == "stub-model" else text("from the fallback")
    )
    async with fresh_client_factory() as client:
        headers, _ = await create_user_and_login(client)
        response = await client.post(f"{API}/agent/run", json={"message": "hello"}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["response"] == "from the fallback"
        assert [r["model"] for r in use_openai.requests] == ["stub-model", "stub-fallback"] * 2


async def test_anthropic_provider(agent_settings, anthropic_stub, fresh_client_factory) -> None:
    agent_settings(
        LLM_MODEL_PROVIDER="anthropic",
        ANTHROPIC_BASE_URL=anthropic_stub.url,
        ANTHROPIC_API_KEY="test",
        LLM_MODEL_NAME="claude-stub",
        LLM_MAX_RETRIES=0,
    )
    async with fresh_client_factory() as client:
        headers, user = await create_user_and_login(client)
        await create_item(user.id, title="Linen shirt")
        response = await client.post(
            f"{API}/agent/run", json={"message": "show my items"}, headers=headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "success" and body["model"] == "claude-stub"
        assert body["tool_calls"][0]["name"] == "lookup_user_items"
        assert "Linen shirt" in body["tool_calls"][0]["output"]
        assert body["total_tokens"] > 0


async def test_a_malformed_tool_call_ends_the_same_on_both_endpoints(
    use_openai, fresh_client_factory
) -> None:
    from tests.fakes.llm_script import ToolCall

    broken = Reply(tool_calls=[ToolCall("lookup_user_items", "{not json", id="call_x")])
    async with fresh_client_factory() as client:
        headers, _ = await create_user_and_login(client)
        use_openai.enqueue(text("a plan"), broken)
        plain = await client.post(
            f"{API}/agent/run", json={"message": "show my items"}, headers=headers
        )
        use_openai.enqueue(text("a plan"), broken)
        async with client.stream(
            "POST", f"{API}/agent/run/stream", json={"message": "show my items"}, headers=headers
        ) as response:
            events = await collect_sse(response)
    # Parsed strictly on both endpoints (LangChain alone would read the streamed `{not json`
    # as `{}` and call the tool): no tool runs, and the run ends as a model error.
    assert plain.status_code == 502, plain.text
    assert plain.json()["code"] == "model_error"
    assert plain.json()["run"]["tool_calls"] == []
    streamed = events[-1]
    assert streamed["type"] == "error"
    assert (streamed["code"], streamed["message"]) == ("model_error", plain.json()["detail"])
    assert "malformed tool call (lookup_user_items)" in streamed["message"]
    assert not [e for e in events if e["type"] == "tool_call"]


async def test_a_failed_tool_without_an_answer_is_not_a_success(
    use_openai, fresh_client_factory
) -> None:
    from tests.fakes.llm_script import ToolCall

    async with fresh_client_factory() as client:
        headers, _ = await create_user_and_login(client)
        call = ToolCall("lookup_item_by_id", {"item_id": "not-a-uuid"}, id="call_y")
        use_openai.enqueue(text("a plan"), Reply(tool_calls=[call]), text(""))
        done = await client.post(
            f"{API}/agent/run", json={"message": "look up that item"}, headers=headers
        )
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["status"] == "error"
    assert result["error"] == "The lookup_item_by_id call failed and the model gave no answer."
    assert result["tool_calls"][0]["ok"] is False
