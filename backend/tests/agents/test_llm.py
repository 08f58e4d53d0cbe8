"""The LLM factory's cached runnables."""

from langchain_core.language_models.chat_models import _format_ls_structured_output

from app.agents.llm import create_chat_models
from app.agents.schemas import Plan
from app.core.config import Settings


def test_structured_output_binds_the_converted_schema() -> None:
    """The planner's tracing metadata is converted once, to what LangChain derives per call."""
    config = Settings(LLM_MODEL_PROVIDER="openai", OPENAI_API_KEY="test")
    models = create_chat_models(config)
    runnable = models.structured(Plan)
    metadata = runnable.first.kwargs["ls_structured_output_format"]  # type: ignore[attr-defined]

    assert isinstance(metadata["schema"], dict)
    assert metadata["schema"]["name"] == "Plan"
    assert _format_ls_structured_output(metadata) == _format_ls_structured_output(
        {**metadata, "schema": Plan}
    )
    assert models.structured(Plan) is runnable
