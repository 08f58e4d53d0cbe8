"""The one LLM factory: OpenAI (or any OpenAI-compatible server), Azure, Anthropic, offline."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.utils.function_calling import convert_to_openai_function
from pydantic import BaseModel, SecretStr

from app.agents.offline_model import OfflineChatModel
from app.core.config import Settings


def _build(
    config: Settings, model_name: str, http_async_client: Any | None = None
) -> BaseChatModel:
    """One chat model of the configured provider. Provider clients retry 429/5xx/timeouts
    with exponential backoff themselves (`max_retries`). `http_async_client` (OpenAI, Azure):
    a client owned by the caller's event loop instead of langchain's process-wide one."""
    provider = config.llm_provider
    common: dict[str, Any] = {
        "temperature": config.LLM_TEMPERATURE,
        "max_tokens": config.LLM_MAX_TOKENS,
        "timeout": config.LLM_TIMEOUT_SECONDS,
        "max_retries": config.LLM_MAX_RETRIES,
    }
    if http_async_client is not None and provider in ("openai", "azure"):
        common["http_async_client"] = http_async_client
    if provider == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=model_name,
            api_key=SecretStr(config.OPENAI_API_KEY or "not-needed"),
            base_url=config.OPENAI_BASE_URL,
            stream_usage=True,
            use_responses_api=False,
            **common,
        )
    if provider == "azure":
        from langchain_openai import AzureChatOpenAI

        return AzureChatOpenAI(
            azure_deployment=model_name,
            azure_endpoint=config.AZURE_OPENAI_ENDPOINT,
            api_key=SecretStr(config.AZURE_OPENAI_API_KEY or ""),
            api_version=config.AZURE_OPENAI_API_VERSION,
            stream_usage=True,
            **common,
        )
    if provider == "anthropic":
        try:
            from langchain_anthropic import ChatAnthropic
        except ImportError as exc:  # optional dependency group
            raise RuntimeError(
                "LLM_MODEL_PROVIDER=anthropic needs the optional dependency: "
                "`uv sync --extra anthropic`"
            ) from exc
        kwargs: dict[str, Any] = (
            {"base_url": config.ANTHROPIC_BASE_URL} if config.ANTHROPIC_BASE_URL else {}
        )
        return ChatAnthropic(
            model=model_name,
            api_key=SecretStr(config.ANTHROPIC_API_KEY or ""),
            temperature=config.LLM_TEMPERATURE,
            max_tokens=config.LLM_MAX_TOKENS,
            timeout=config.LLM_TIMEOUT_SECONDS,
            max_retries=config.LLM_MAX_RETRIES,
            stream_usage=True,
            **kwargs,
        )
    return OfflineChatModel(
        model_name=model_name,
        latency_ms=config.OFFLINE_MODEL_LATENCY_MS,
        tokens_per_second=config.OFFLINE_MODEL_TOKENS_PER_SECOND,
    )


@dataclass(frozen=True)
class ChatModels:
    """The primary model and an optional fallback, used when the primary keeps failing.

    Bound and structured variants are cached: converting tool schemas costs ~20 ms of CPU per
    call, and tools are rebuilt per run (they carry the caller's identity) with the same schemas.
    """

    primary: BaseChatModel
    fallback: BaseChatModel | None = None
    _cache: dict[Any, Runnable[LanguageModelInput, Any]] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        """The primary model's name, as recorded on runs."""
        return str(
            getattr(self.primary, "model_name", None)
            or getattr(self.primary, "deployment_name", None)
            or getattr(self.primary, "model", "unknown")
        )

    def with_tools(self, tools: Sequence[Any]) -> Runnable[LanguageModelInput, BaseMessage]:
        """The model bound to tools (fallback bound the same way), cached by tool names."""
        key = ("tools", *(getattr(tool, "name", repr(tool)) for tool in tools))
        if key not in self._cache:
            self._cache[key] = self._bind(tools)
        return self._cache[key]

    def _bind(self, tools: Sequence[Any]) -> Runnable[LanguageModelInput, BaseMessage]:
        bound = self.primary.bind_tools(tools)
        if self.fallback is None:
            return bound
        return bound.with_fallbacks([self.fallback.bind_tools(tools)])

    def structured(self, schema: type[BaseModel]) -> Runnable[LanguageModelInput, Any]:
        """The model producing `schema` via function calling (the safest for local servers)."""
        key = ("structured", schema)
        if key not in self._cache:
            self._cache[key] = self._structured(schema)
        return self._cache[key]

    def _structured(self, schema: type[BaseModel]) -> Runnable[LanguageModelInput, Any]:
        # Given a Pydantic class, LangChain derives its JSON schema again on every call for the
        # tracing metadata (~0.7 ms of CPU, about 5 % of a run); a JSON-schema dict is passed
        # through. So the schema is converted once and the answer validated into the class here.
        function = convert_to_openai_function(schema)

        def to_model(value: Any) -> BaseModel | None:
            # None when the model answered without the tool call, as LangChain's own parser.
            return None if value is None else schema.model_validate(value)

        validate = RunnableLambda(to_model, name=schema.__name__)

        def build(model: BaseChatModel) -> Runnable[LanguageModelInput, Any]:
            structured = model.with_structured_output(function, method="function_calling")
            return structured.pipe(validate)

        if self.fallback is None:
            return build(self.primary)
        return build(self.primary).with_fallbacks([build(self.fallback)])


def create_chat_models(config: Settings) -> ChatModels:
    """Build the configured models."""
    primary = _build(config, config.llm_model_name)
    fallback = (
        _build(config, config.LLM_FALLBACK_MODEL_NAME) if config.LLM_FALLBACK_MODEL_NAME else None
    )
    return ChatModels(primary=primary, fallback=fallback)


def judge_provider(config: Settings) -> str:
    """The evaluation judge's provider: `EVALUATION_PROVIDER`, else OpenAI-compatible when an
    evaluation key or URL is set, else `offline` (the evaluation's heuristic judge)."""
    if config.EVALUATION_PROVIDER:
        return config.EVALUATION_PROVIDER
    return "openai" if (config.EVALUATION_API_KEY or config.EVALUATION_BASE_URL) else "offline"


def judge_config(config: Settings, **overrides: Any) -> Settings:
    """The settings the judge's model is built from: the judge's provider and model,
    `EVALUATION_API_KEY`/`EVALUATION_BASE_URL` over the provider's own key and URL, temperature
    0 and no client retries (the judge retries with its own policy)."""
    key = overrides.get("api_key") or config.EVALUATION_API_KEY
    url = overrides.get("base_url") or config.EVALUATION_BASE_URL
    provider = overrides.get("provider") or judge_provider(
        config.model_copy(update={"EVALUATION_API_KEY": key, "EVALUATION_BASE_URL": url})
    )
    update: dict[str, Any] = {
        "LLM_MODEL_PROVIDER": provider,
        "LLM_MODEL_NAME": overrides.get("model") or config.EVALUATION_LLM,
        "LLM_FALLBACK_MODEL_NAME": None,
        "LLM_TEMPERATURE": 0.0,
        "LLM_MAX_RETRIES": 0,
        "LLM_TIMEOUT_SECONDS": overrides.get("timeout") or config.EVALUATION_TIMEOUT_SECONDS,
    }
    names = {
        "openai": ("OPENAI_API_KEY", "OPENAI_BASE_URL"),
        "anthropic": ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"),
        "azure": ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT"),
    }.get(provider)
    if names is not None and url:  # the judge's own server: never send it the agent's key
        update |= {names[0]: key, names[1]: url}
    elif names is not None and key:  # the judge's own key: OpenAI's own API, or the provider's URL
        update |= {names[0]: key} | ({names[1]: None} if provider == "openai" else {})
    return config.model_copy(update=update)


def create_judge_model(config: Settings, http_async_client: Any | None = None) -> BaseChatModel:
    """The judge's chat model, from `judge_config(...)` settings, by the same factory as the
    agent's."""
    return _build(config, config.llm_model_name, http_async_client)
