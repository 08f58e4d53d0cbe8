"""The fake Langfuse, driven by the real Langfuse SDK 5 and read back over its HTTP API."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langfuse import Langfuse, propagate_attributes
from langfuse.langchain import CallbackHandler

from tests.fakes.langfuse import LangfuseFake
from tests.fakes.llm_script import Usage, text
from tests.fakes.openai_server import OpenAIStub


@pytest.fixture
def sdk_keys(langfuse_fake: LangfuseFake) -> tuple[str, str]:
    """A fresh key pair the fake accepts (SDK clients are singletons per public key)."""
    public_key, secret_key = f"pk-lf-{uuid.uuid4().hex[:12]}", f"sk-lf-{uuid.uuid4().hex}"
    langfuse_fake.add_credentials(public_key, secret_key)
    return public_key, secret_key


@pytest.fixture
def sdk(langfuse_fake: LangfuseFake, sdk_keys: tuple[str, str]) -> Iterator[Langfuse]:
    """A real Langfuse SDK 5 client sending to the fake."""
    public_key, secret_key = sdk_keys
    client = Langfuse(public_key=public_key, secret_key=secret_key, base_url=langfuse_fake.url)
    yield client
    client.shutdown()


def get(fake: LangfuseFake, path: str, **params: Any) -> Any:
    """GET a read endpoint with the fake's default keys and return the JSON body."""
    response = httpx.get(f"{fake.url}{path}", params=params, headers=fake.auth_header())
    assert response.status_code == 200, response.text
    return response.json()


def test_sdk_trace_with_generation_reads_back(langfuse_fake: LangfuseFake, sdk: Langfuse) -> None:
    with sdk.start_as_current_observation(name="agent", input={"message": "hi"}) as root:
        with propagate_attributes(
            trace_name="agent_run",
            user_id="user-1",
            session_id="thread-1",
            tags=["agent", "prod"],
            metadata={"run_id": "run-1", "app_env": "test"},
        ):
            with sdk.start_as_current_observation(
                name="llm", as_type="generation", model="gpt-test", input=[{"role": "user"}]
            ) as generation:
                generation.update(output="hello", usage_details={"input": 12, "output": 3})
        root.update(output={"answer": "hello"})
    sdk.flush()
    trace_id = root.trace_id

    trace = get(langfuse_fake, f"/api/public/traces/{trace_id}")
    assert trace["name"] == "agent_run"
    assert (trace["userId"], trace["sessionId"]) == ("user-1", "thread-1")
    assert trace["tags"] == ["agent", "prod"]
    assert trace["metadata"] == {"run_id": "run-1", "app_env": "test"}
    assert (trace["input"], trace["output"]) == ({"message": "hi"}, {"answer": "hello"})
    [llm] = [obs for obs in trace["observations"] if obs["type"] == "GENERATION"]
    assert llm["model"] == "gpt-test"
    assert llm["usageDetails"] == {"input": 12, "output": 3, "total": 15}
    assert llm["parentObservationId"] == root.id

    page = get(
        langfuse_fake,
        "/api/public/v2/observations",
        traceId=trace_id,
        type="GENERATION",
        fields="core,basic,io,model,usage,trace_context",
    )
    [obs] = page["data"]
    assert obs["providedModelName"] == "gpt-test"
    assert obs["usageDetails"]["total"] == 15
    assert obs["output"] == "hello"
    assert (obs["userId"], obs["traceName"], obs["tags"]) == (
        "user-1",
        "agent_run",
        ["agent", "prod"],
    )
    assert sdk.get_trace_url(trace_id=trace_id) == (
        f"{langfuse_fake.url}/project/fake-project/traces/{trace_id}"
    )


@tool
def lookup_user_items(limit: int) -> str:
    """Look up the current user's items."""
    return json.dumps([{"title": f"item {n}"} for n in range(limit)])


def test_langchain_callback_handler_trace(
    langfuse_fake: LangfuseFake, sdk: Langfuse, sdk_keys: tuple[str, str], openai_stub: OpenAIStub
) -> None:
    openai_stub.enqueue(text("You have two items.", usage=Usage(21, 4)))
    model = ChatOpenAI(
        model="gpt-test",
        base_url=openai_stub.base_url,
        api_key="test",
        stream_usage=True,
        use_responses_api=False,
        max_retries=0,
    )

    def fetch_items(question: str, config: RunnableConfig) -> dict[str, str]:
        return {"question": question, "items": lookup_user_items.invoke({"limit": 2}, config)}

    prompt = ChatPromptTemplate.from_messages([("user", "{question} Items: {items}")])
    chain = RunnableLambda(fetch_items) | prompt | model
    handler = CallbackHandler(public_key=sdk_keys[0])
    config: RunnableConfig = {
        "callbacks": [handler],
        "run_name": "agent",
        "metadata": {
            "langfuse_trace_name": "agent_run",
            "langfuse_user_id": "user-7",
            "langfuse_session_id": "thread-9",
            "langfuse_tags": ["agent", "test"],
            "run_id": "run-42",
        },
    }
    answer = chain.invoke("What are my items?", config)
    sdk.flush()
    assert answer.content == "You have two items."
    trace_id = handler.last_trace_id
    assert trace_id

    trace = get(langfuse_fake, f"/api/public/traces/{trace_id}")
    assert (trace["name"], trace["userId"], trace["sessionId"]) == (
        "agent_run",
        "user-7",
        "thread-9",
    )
    assert set(trace["tags"]) == {"agent", "test"}
    assert trace["metadata"]["run_id"] == "run-42"
    assert trace["input"] == "What are my items?"
    by_type = {obs["type"]: obs for obs in trace["observations"]}
    generation, tool_span = by_type["GENERATION"], by_type["TOOL"]
    assert generation["model"] == "gpt-test"
    assert generation["usageDetails"] == {"input": 21, "output": 4, "total": 25}
    assert "You have two items." in json.dumps(generation["output"])
    assert "What are my items? Items:" in json.dumps(generation["input"])
    assert tool_span["name"] == "lookup_user_items"
    assert "item 1" in json.dumps(tool_span["output"])

    tag_filter = [
        {
            "type": "arrayOptions",
            "column": "traceTags",
            "operator": "all of",
            "value": ["agent", "test"],
        },
        {"type": "boolean", "column": "isRootObservation", "operator": "=", "value": True},
    ]
    roots = get(langfuse_fake, "/api/public/v2/observations", filter=json.dumps(tag_filter))
    assert [obs["traceId"] for obs in roots["data"]] == [trace_id]
    assert roots["data"][0]["name"] == "agent"


def test_create_score_same_id_overwrites(langfuse_fake: LangfuseFake, sdk: Langfuse) -> None:
    trace_id = sdk.create_trace_id()
    for value, comment in ((0.2, "first judgment"), (0.9, "second judgment")):
        sdk.create_score(
            name="helpfulness",
            value=value,
            trace_id=trace_id,
            score_id=f"{trace_id}-helpfulness",
            data_type="NUMERIC",
            comment=comment,
            metadata={"judge_model": "stub"},
        )
        sdk.flush()
    sdk.create_score(name="conciseness", value=1.0, trace_id=trace_id, score_id=f"{trace_id}-c")
    sdk.flush()

    page = get(langfuse_fake, "/api/public/v3/scores", traceId=trace_id, fields="details,subject")
    scores = {score["name"]: score for score in page["data"]}
    assert sorted(scores) == ["conciseness", "helpfulness"]
    helpfulness = scores["helpfulness"]
    assert (helpfulness["value"], helpfulness["comment"]) == (0.9, "second judgment")
    assert helpfulness["metadata"] == {"judge_model": "stub"}
    assert helpfulness["subject"] == {"kind": "trace", "id": trace_id}
    assert len(langfuse_fake.score_posts()) == 3
    only = get(langfuse_fake, "/api/public/v3/scores", name="helpfulness")
    assert [score["id"] for score in only["data"]] == [f"{trace_id}-helpfulness"]


def test_pagination_over_more_than_100_traces(langfuse_fake: LangfuseFake, sdk: Langfuse) -> None:
    expected = set()
    for n in range(120):
        with sdk.start_as_current_observation(name="bulk-root", input={"n": n}) as root:
            with propagate_attributes(trace_name="bulk", tags=["bulk"]):
                pass
        expected.add(root.trace_id)
    sdk.flush()
    langfuse_fake.wait_for(lambda: len(langfuse_fake.traces()) == 120)

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"name": "bulk-root", "limit": 50} | ({"cursor": cursor} if cursor else {})
        page = get(langfuse_fake, "/api/public/v2/observations", **params)
        seen += [obs["traceId"] for obs in page["data"]]
        pages += 1
        cursor = page["meta"].get("cursor")
        if not cursor:
            break
    assert pages == 3
    assert len(seen) == 120 and set(seen) == expected

    listed = get(langfuse_fake, "/api/public/traces", page=3, limit=50, tags="bulk")
    assert listed["meta"] == {"page": 3, "limit": 50, "totalItems": 120, "totalPages": 3}
    assert len(listed["data"]) == 20
    assert all(item["name"] == "bulk" for item in listed["data"])


def test_wrong_or_missing_auth_is_rejected(langfuse_fake: LangfuseFake) -> None:
    wrong = langfuse_fake.auth_header(secret_key="not-the-secret")
    for path in ("/api/public/v2/observations", "/api/public/v3/scores", "/api/public/traces"):
        assert httpx.get(f"{langfuse_fake.url}{path}", headers=wrong).status_code == 401
        assert httpx.get(f"{langfuse_fake.url}{path}").status_code == 401
    posted = httpx.post(f"{langfuse_fake.url}/api/public/scores", json={}, headers=wrong)
    assert posted.status_code == 401
    health = httpx.get(f"{langfuse_fake.url}/api/public/health")
    assert health.json() == {"version": "4.16.0", "status": "OK"}


def test_sdk_with_wrong_secret_stores_nothing(langfuse_fake: LangfuseFake) -> None:
    public_key = f"pk-lf-{uuid.uuid4().hex[:12]}"
    langfuse_fake.add_credentials(public_key, "the-right-secret")
    client = Langfuse(
        public_key=public_key, secret_key="a-wrong-secret", base_url=langfuse_fake.url
    )
    try:
        with client.start_as_current_observation(name="rejected"):
            pass
        client.flush()
    finally:
        client.shutdown()
    ingest = [r for r in langfuse_fake.requests if r.path == "/api/public/otel/v1/traces"]
    assert ingest and all(r.status == 401 for r in ingest)
    assert langfuse_fake.spans == []
