"""The LLM factory's cached runnables."""

from pydantic import BaseModel

from app.agents.llm import create_chat_models
from app.agents.schemas import Plan
from app.core.config import Settings


class Other(BaseModel):
    answer: str


def test_structured_output_is_built_once_per_schema() -> None:
    config = Settings(LLM_MODEL_PROVIDER="openai", OPENAI_API_KEY="test")
    models = create_chat_models(config)
    runnable = models.structured(Plan)
    assert models.structured(Plan) is runnable
    assert models.structured(Other) is not runnable
