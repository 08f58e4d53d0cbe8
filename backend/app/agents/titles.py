"""Conversation titles: the first message trimmed, or the model's name for the first exchange."""

from collections.abc import Sequence

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import HumanMessage, SystemMessage

from app.agents.llm import ChatModels
from app.agents.model_chain import CallScope
from app.agents.prompts import TITLE_PROMPT

TITLE_MAX_CHARS = 60
EXCHANGE_MAX_CHARS = 2000  # of the question and of the answer, sent to the model


def trimmed_title(text: str, max_chars: int = TITLE_MAX_CHARS) -> str:
    """One readable line in the user's own words: whitespace collapsed, cut at a word."""
    line = " ".join(text.split()).strip(" \"'`")
    if len(line) <= max_chars:
        return line
    cut = line[: max_chars - 1]
    if " " in cut[max_chars // 2 :]:  # cut at the last word boundary unless it's too early
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-") + "…"


async def model_title(
    models: ChatModels,
    question: str,
    answer: str,
    scope: CallScope | None = None,
    callbacks: Sequence[BaseCallbackHandler] = (),
) -> str:
    """The model's title for the first exchange ("" when it gave nothing usable), through the
    model chain (its breakers and fallbacks, within `scope`'s deadline); `callbacks` see the
    call (usage, metrics, the trace)."""
    reply = await models.plain().ainvoke(
        [
            SystemMessage(TITLE_PROMPT),
            HumanMessage(
                f"User: {question[:EXCHANGE_MAX_CHARS]}\n\nAssistant: {answer[:EXCHANGE_MAX_CHARS]}"
            ),
        ],
        scope,
        {"callbacks": list(callbacks), "run_name": "conversation_title"},
    )
    first_line = next((line for line in reply.text.splitlines() if line.strip()), "")
    return trimmed_title(first_line.strip().rstrip(".!"))
