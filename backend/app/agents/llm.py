"""The one LLM factory: OpenAI (or any OpenAI-compatible server), Azure, Anthropic, offline;
the model chain (primary, then ordered fallbacks of any provider) behind circuit breakers."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.utils.function_calling import convert_to_openai_function
from pydantic import BaseModel, SecretStr
from redis.asyncio import Redis

from app.agents.model_chain import ModelChain, ModelLink
from app.agents.offline_model import OfflineChatModel
from app.core.circuit_breaker import BreakerPolicy, CircuitBreakers
from app.core.config import ModelSpec, Provider, Settings


def _build(
    config: Settings, spec: ModelSpec | str, http_async_client: Any | None = None
) -> BaseChatModel:
    """One chat model. Provider clients retry 429/5xx/timeouts with exponential backoff
    themselves (`max_retries`). `http_async_client` (OpenAI, Azure): a client owned by the
    caller's event loop instead of langchain's process-wide one."""
    if isinstance(spec, str):
        spec = config.model_chain[0].model_copy(update={"model": spec})
    provider, model_name = spec.provider, spec.model
    timeout = spec.timeout_seconds or config.LLM_TIMEOUT_SECONDS
    retries = config.LLM_MAX_RETRIES if spec.max_retries is None else spec.max_retries
    common: dict[str, Any] = {
        "temperature": config.LLM_TEMPERATURE,
        "max_tokens": config.LLM_MAX_TOKENS,
        "timeout": timeout,
        "max_retries": retries,
    }
    if http_async_client is not None and provider in ("openai", "azure"):
        common["http_async_client"] = http_async_client
    if provider == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=model_name,
            api_key=SecretStr(spec.api_key or config.OPENAI_API_KEY or "not-needed"),
            base_url=spec.base_url or config.OPENAI_BASE_URL,
            stream_usage=True,
            use_responses_api=False,
            **common,
        )
    if provider == "azure":
        from langchain_openai import AzureChatOpenAI

        return AzureChatOpenAI(
            azure_deployment=model_name,
            azure_endpoint=spec.base_url or config.AZURE_OPENAI_ENDPOINT,
            api_key=SecretStr(spec.api_key or config.AZURE_OPENAI_API_KEY or ""),
            api_version=config.AZURE_OPENAI_API_VERSION,
            stream_usage=True,
            **common,
        )
    if provider == "anthropic":
        try:
            from langchain_anthropic import ChatAnthropic
        except ImportError as exc:  # optional dependency group
            raise RuntimeError(
                "An anthropic model needs the optional dependency: `uv sync --extra anthropic`"
            ) from exc
        base_url = spec.base_url or config.ANTHROPIC_BASE_URL
        kwargs: dict[str, Any] = {"base_url": base_url} if base_url else {}
        return ChatAnthropic(
            model=model_name,
            api_key=SecretStr(spec.api_key or config.ANTHROPIC_API_KEY or ""),
            temperature=config.LLM_TEMPERATURE,
            max_tokens=config.LLM_MAX_TOKENS,
            timeout=timeout,
            max_retries=retries,
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
    """The model chain: the primary, then its fallbacks, each behind its circuit breaker.

    Bound and structured variants are cached: converting tool schemas costs ~20 ms of CPU per
    call, and tools are rebuilt per run (they carry the caller's identity) with the same schemas.
    """

    links: tuple[ModelLink, ...]
    breakers: CircuitBreakers | None = None
    deadline_s: float = 90.0
    _cache: dict[Any, ModelChain] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, *models: BaseChatModel, provider: Provider = "offline") -> "ChatModels":
        """A chain of ready-made models without breakers (tests and scripts)."""
        links = tuple(
            ModelLink(ModelSpec(provider=provider, model=_model_name(m)), m) for m in models
        )
        return cls(links)

    @property
    def primary(self) -> BaseChatModel:
        """The first model of the chain."""
        return self.links[0].model

    @property
    def name(self) -> str:
        """The primary model's name (a run records the model that actually answered)."""
        return self.links[0].spec.model

    def with_tools(self, tools: Sequence[Any]) -> ModelChain:
        """The chain with every model bound to the tools, cached by tool names."""
        key = ("tools", *(getattr(tool, "name", None) or repr(tool) for tool in tools))
        if key not in self._cache:
            self._cache[key] = self._chain([link.model.bind_tools(tools) for link in self.links])
        return self._cache[key]

    def plain(self) -> ModelChain:
        """The chain with no tools and no schema (short side calls such as titles)."""
        if "plain" not in self._cache:
            self._cache["plain"] = self._chain([link.model for link in self.links])
        return self._cache["plain"]

    def structured(self, schema: type[BaseModel]) -> ModelChain:
        """The chain producing `schema` via function calling (the safest for local servers)."""
        key = ("structured", schema)
        if key not in self._cache:
            self._cache[key] = self._chain([_structured(link.model, schema) for link in self.links])
        return self._cache[key]

    def _chain(self, runnables: list[Runnable[LanguageModelInput, Any]]) -> ModelChain:
        return ModelChain(self.links, runnables, self.breakers, self.deadline_s)


def _model_name(model: BaseChatModel) -> str:
    return str(
        getattr(model, "model_name", None)
        or getattr(model, "deployment_name", None)
        or getattr(model, "model", None)
        or "unknown"
    )


def _structured(model: BaseChatModel, schema: type[BaseModel]) -> Runnable[LanguageModelInput, Any]:
    # Given a Pydantic class, LangChain derives its JSON schema again on every call for the
    # tracing metadata (~0.7 ms of CPU, about 5 % of a run); a JSON-schema dict is passed
    # through. So the schema is converted once and the answer validated into the class here.
    function = convert_to_openai_function(schema)

    def to_model(value: Any) -> BaseModel | None:
        # None when the model answered without the tool call, as LangChain's own parser.
        return None if value is None else schema.model_validate(value)

    async def ato_model(value: Any) -> BaseModel | None:
        # Without an async form RunnableLambda runs `to_model` in a thread pool on every call.
        return to_model(value)

    structured = model.with_structured_output(function, method="function_calling")
    return structured.pipe(RunnableLambda(to_model, afunc=ato_model, name=schema.__name__))


def breaker_policy(config: Settings) -> BreakerPolicy:
    """The LLM_BREAKER_* settings."""
    return BreakerPolicy(
        failure_threshold=config.LLM_BREAKER_FAILURE_THRESHOLD,
        failure_rate=config.LLM_BREAKER_FAILURE_RATE,
        min_calls=config.LLM_BREAKER_MIN_CALLS,
        window_s=config.LLM_BREAKER_WINDOW_SECONDS,
        cooldown_s=config.LLM_BREAKER_COOLDOWN_SECONDS,
    )


def create_chat_models(config: Settings, redis: Redis | None = None) -> ChatModels:
    """Build the configured chain; breakers in Redis when a client is given."""
    links = tuple(ModelLink(spec, _build(config, spec)) for spec in config.model_chain)
    breakers = (
        CircuitBreakers(breaker_policy(config), redis) if config.LLM_BREAKER_ENABLED else None
    )
    return ChatModels(links, breakers, config.LLM_CALL_DEADLINE_SECONDS)


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
        "LLM_FALLBACK_MODELS": [],
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
    return _build(config, config.model_chain[0], http_async_client)
