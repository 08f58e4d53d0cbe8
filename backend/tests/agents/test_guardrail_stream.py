"""Streamed redaction: released text joins to the whole text's redaction, and never holds a
piece of a secret, however the text is cut into chunks."""

import random
from typing import Any

import pytest
from prometheus_client import REGISTRY

from app.agents.guardrails import GuardContext, GuardrailEngine
from app.agents.guardrails.rules import RuleGuardrail
from app.agents.guardrails.stream import HOLD_BACK_CHARS, StreamRedactor
from app.core.guardrail_policy import GuardrailPolicy, OutputPolicy
from tests.agents.conftest import openai_stub_settings
from tests.fakes.llm_script import structured, text
from tests.support.sse import collect_sse, iter_sse
from tests.utils import API, create_user_and_login

API_KEY = "sk-proj-" + "Zq7wX2vB9nM4kL8pR3tY6uH1"
BEARER = "Bearer " + "tok3nV4lu3abcdefGHIJKLmnop0123"
JWT = "eyJ" + "a1B2" * 20 + ".eyJ" + "c3D4" * 30 + "." + "e5F6" * 15  # longer than the hold-back
PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    + "\n".join("MIIEow" + "Kq9Zr8Ys7Xt6Wu5V" * 4 for _ in range(5))
    + "\n-----END RSA PRIVATE KEY-----"
)
UNSEEN_EMAIL = "carol.whitfield@other-company.org"
SEEN_EMAIL = "me@example.com"
SECRETS = [API_KEY, BEARER, JWT, PRIVATE_KEY, UNSEEN_EMAIL, "Project Falcon"]

PROSE = (
    "Here is a summary of what I found while reading the pages you asked about. "
    "The report covers three quarters and mentions several teams by name. "
)


def _engine() -> GuardrailEngine:
    policy = GuardrailPolicy(output=OutputPolicy(blocked_terms=["Project Falcon"]))
    return GuardrailEngine([RuleGuardrail(policy)])


def _context() -> GuardContext:
    return GuardContext(seen_text=f"my address is {SEEN_EMAIL}")


def _answer() -> str:
    return (
        f"{PROSE}Your key is {API_KEY}; the header was {BEARER}. {PROSE}"
        f"The session token {JWT} expired. Write to {SEEN_EMAIL} or {UNSEEN_EMAIL}. "
        f"{PROSE}The key file:\n{PRIVATE_KEY}\nand the codename project falcon. {PROSE}"
    )


def _chunkings(text: str) -> list[list[str]]:
    rng = random.Random(22)
    cuts = [[text[i : i + 1] for i in range(len(text))], [text]]
    for _ in range(20):
        chunks, at = [], 0
        while at < len(text):
            size = rng.randint(1, 12)
            chunks.append(text[at : at + size])
            at += size
        cuts.append(chunks)
    return cuts


def _fragments(secret: str, size: int = 8) -> set[str]:
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


async def _stream(engine: GuardrailEngine, chunks: list[str]) -> list[str]:
    redactor = StreamRedactor(engine, "output", _context())
    released = [await redactor.feed(chunk) for chunk in chunks]
    released.append(await redactor.flush())
    return [piece for piece in released if piece]


async def test_released_pieces_join_to_the_redacted_text_for_any_chunking() -> None:
    engine = _engine()
    text = _answer()
    expected = await engine.redact("output", text, _context())
    for kind in ("api_key", "bearer_token", "jwt", "private_key", "email", "blocked_term"):
        assert f"[redacted:{kind}]" in expected, kind
    assert SEEN_EMAIL in expected
    leaks = set().union(*(_fragments(s) for s in SECRETS)) - _fragments(expected)
    for chunks in _chunkings(text):
        pieces = await _stream(engine, chunks)
        assert "".join(pieces) == expected
        assert len(pieces) > 1  # it streams: not one piece at the end
        for piece in pieces:
            assert not [f for f in leaks if f in piece], piece


async def test_text_shorter_than_the_hold_back_is_released_at_the_end() -> None:
    engine = _engine()
    redactor = StreamRedactor(engine, "output", _context())
    short = "A short answer " + API_KEY[:10]
    assert len(short) < HOLD_BACK_CHARS
    assert await redactor.feed(short) == ""
    assert await redactor.feed(API_KEY[10:] + " done.") == ""
    assert await redactor.flush() == "A short answer [redacted:api_key] done."


async def test_an_unclosed_private_key_is_held_until_it_closes() -> None:
    engine = _engine()
    redactor = StreamRedactor(engine, "output", _context())
    head, body_and_end = PRIVATE_KEY.split("\n", 1)
    released = await redactor.feed(PROSE + head + "\n")
    for line in body_and_end.split("\n"):
        released += await redactor.feed(line + "\n")
        if "END" not in line:
            assert "BEGIN" not in released and "MIIEow" not in released
    released += await redactor.feed(PROSE) + await redactor.flush()
    assert released == f"{PROSE}[redacted:private_key]\n{PROSE}"


async def test_streaming_does_not_count_guardrail_triggers() -> None:
    def secrets_counted() -> float:
        labels = {"rule": "secret", "stage": "output"}
        return REGISTRY.get_sample_value("agent_guardrail_triggered_total", labels) or 0.0

    before = secrets_counted()
    await _stream(_engine(), [_answer()[i : i + 5] for i in range(0, len(_answer()), 5)])
    assert secrets_counted() == before  # the complete answer is counted once, by the executor


@pytest.mark.parametrize("text", ["", "ok", PROSE * 3])
async def test_text_without_findings_passes_unchanged(text: str) -> None:
    pieces = await _stream(_engine(), [text[i : i + 3] for i in range(0, len(text), 3)])
    assert "".join(pieces) == text


# --- over the API, with an OpenAI-compatible model streaming the secrets in small chunks ---


def _assert_tokens_redacted(events: list[dict[str, Any]], answer: str) -> None:
    tokens = [e["text"] for e in events if e["type"] == "token"]
    assert len(tokens) > 1
    joined = "".join(tokens)
    assert events[-1]["type"] == "run_completed" and events[-1]["response"] == joined
    assert joined.startswith(PROSE) and "[redacted:api_key]" in joined
    assert "[redacted:jwt]" in joined and "[redacted:email]" in joined
    assert "[redacted:blocked_term]" in joined
    leaks = set().union(*(_fragments(s) for s in SECRETS)) - _fragments(joined)
    assert leaks and len(answer) > len(joined)
    for token in tokens:
        assert not [f for f in leaks if f in token], token


async def test_streamed_and_rejoined_tokens_never_carry_a_secret(
    agent_settings, openai_stub, fresh_client_factory
) -> None:
    agent_settings(
        **openai_stub_settings(openai_stub), AGENT_GUARDRAIL_BLOCKED_TERMS=["Project Falcon"]
    )
    answer = _answer()
    async with fresh_client_factory() as client:
        headers, _ = await create_user_and_login(client)
        # 1. The stream endpoint, then the finished run's event log replayed.
        openai_stub.enqueue(structured({"steps": []}), text(answer, chunk_size=5))
        async with client.stream(
            "POST", f"{API}/agent/run/stream", json={"message": "summarise"}, headers=headers
        ) as response:
            streamed = await collect_sse(response)
        _assert_tokens_redacted(streamed, answer)
        run_id = streamed[0]["run_id"]
        async with client.stream(
            "GET", f"{API}/agent/runs/{run_id}/stream", headers=headers
        ) as response:
            assert await collect_sse(response) == streamed
        stored = (await client.get(f"{API}/agent/runs/{run_id}", headers=headers)).json()
        assert stored["response"] == streamed[-1]["response"]
        # 2. Joined while the answer is still streaming (replay, then the live tail).
        openai_stub.enqueue(
            structured({"steps": []}), text(answer, chunk_size=5, chunk_delay=0.002)
        )
        body = {"message": "again", "on_disconnect": "continue"}
        async with client.stream(
            "POST", f"{API}/agent/run/stream", json=body, headers=headers
        ) as response:
            run_id = (await anext(iter_sse(response)))["run_id"]
        async with client.stream(
            "GET", f"{API}/agent/runs/{run_id}/stream", headers=headers
        ) as response:
            joined = await collect_sse(response)
        _assert_tokens_redacted(joined, answer)
