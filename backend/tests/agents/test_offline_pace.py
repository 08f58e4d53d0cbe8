"""The offline model streams its answer word by word at OFFLINE_MODEL_TOKENS_PER_SECOND."""

import itertools
import time

from langchain_core.messages import HumanMessage

from app.agents.llm import create_chat_models
from app.core.config import Settings

PROMPT = [HumanMessage("tell me something about the weather in the mountains today please")]


async def _content_chunk_times(tokens_per_second: float) -> list[tuple[float, str]]:
    config = Settings(
        LLM_MODEL_PROVIDER="offline", OFFLINE_MODEL_TOKENS_PER_SECOND=tokens_per_second
    )
    model = create_chat_models(config).primary
    times = []
    async for chunk in model.astream(PROMPT):
        if chunk.text:
            times.append((time.monotonic(), chunk.text))
    return times


async def test_paced_stream_arrives_token_by_token() -> None:
    rate = 40.0
    chunks = await _content_chunk_times(rate)
    assert len(chunks) >= 8, chunks  # one chunk per word, not the answer in one piece
    assert all(len(text.split()) == 1 for _, text in chunks)
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(chunks)]
    # asyncio.sleep never wakes early, so every gap is at least the pace (minus clock jitter).
    assert min(gaps) >= 0.9 / rate, gaps


async def test_unpaced_stream_is_instant() -> None:
    """The default (0) the tests use: the same words, with no pause between them."""
    paced_words = [text for _, text in await _content_chunk_times(40.0)]
    chunks = await _content_chunk_times(0)
    assert [text for _, text in chunks] == paced_words
    assert chunks[-1][0] - chunks[0][0] < (len(chunks) - 1) / 40.0 / 2


def test_the_application_default_is_instant() -> None:
    assert Settings.model_fields["OFFLINE_MODEL_TOKENS_PER_SECOND"].default == 0
