"""The summariser the context fitter folds old turns with: the agent's own model, no tools."""

from pydantic import BaseModel, Field

from app.agents.context import Summarise
from app.agents.llm import ChatModels
from app.agents.model_chain import CallScope
from app.agents.prompts import SUMMARY_PROMPT


class ConversationSummary(BaseModel):
    """The merged summary of the conversation so far."""

    summary: str = Field(description="The summary of the whole conversation so far.")


def summariser(models: ChatModels, scope: CallScope | None = None) -> Summarise:
    """Summarise through the same model chain as the planner, within the run's deadline
    (`scope`; structured output, so the answer is one field whatever the provider adds)."""

    async def summarise(previous: str, transcript: str, max_tokens: int) -> str:
        prompt = SUMMARY_PROMPT.format(max_words=max_tokens * 3 // 4, summary=previous or "(none)")
        answer = await models.structured(ConversationSummary).ainvoke(
            [("system", prompt), ("human", "New part of the transcript:\n" + transcript)], scope
        )
        if isinstance(answer, ConversationSummary) and answer.summary.strip():
            return answer.summary.strip()
        # No usable answer: keep the transcript's start rather than lose the turns altogether.
        return (previous + "\n" + transcript).strip()

    return summarise
