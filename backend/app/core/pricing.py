"""LLM prices, the one table for Prometheus metrics and evaluation reports.

`LLM_PRICES_JSON` (USD per 1M tokens, longest model-name prefix wins) overrides; every other model
is priced from genai-prices' data, which ships inside the wheel (no network at run time). A model
neither knows has an unknown cost: `None`, never 0.
"""

from functools import lru_cache

from genai_prices import Usage, calc_price

from app.core.config import settings

# Rates are read from a small call so they stay in a model's base tier (some models charge
# more past ~200k prompt tokens; costs above that tier are estimates at the base rate).
_SAMPLE_TOKENS = 1_000


def split_model(model: str) -> tuple[str | None, str]:
    """(provider, model name) from `provider/model` (OpenRouter/LiteLLM style) or a bare name."""
    provider, sep, name = model.strip().partition("/")
    return (provider.lower(), name) if sep and name else (None, model.strip())


def _override(name: str) -> dict[str, float] | None:
    lowered = name.lower()
    matches = [prefix for prefix in settings.LLM_PRICES_JSON if lowered.startswith(prefix.lower())]
    return settings.LLM_PRICES_JSON[max(matches, key=len)] if matches else None


@lru_cache(maxsize=1024)
def _bundled(provider: str | None, name: str) -> tuple[float, float] | None:
    """USD per 1M (input, output) tokens from genai-prices' bundled data."""
    usage = Usage(input_tokens=_SAMPLE_TOKENS, output_tokens=_SAMPLE_TOKENS)
    for provider_id in dict.fromkeys((provider, None)):
        try:
            price = calc_price(usage, model_ref=name, provider_id=provider_id)
        except LookupError:
            continue
        scale = 1_000_000 / _SAMPLE_TOKENS
        return float(price.input_price) * scale, float(price.output_price) * scale
    return None


def price_per_million(model: str) -> dict[str, float] | None:
    """{"input", "output"} USD per 1M tokens for `model`, or None when no table knows it."""
    provider, name = split_model(model)
    override = _override(name) or _override(model)
    if override is not None:
        return {"input": override.get("input", 0.0), "output": override.get("output", 0.0)}
    rates = _bundled(provider, name)
    return None if rates is None else {"input": rates[0], "output": rates[1]}


def cost_usd(model: str, input_tokens: int, output_tokens: int) -> float | None:
    """The cost of one call in USD; None (unknown, not zero) when the model has no price."""
    price = price_per_million(model)
    if price is None:
        return None
    return (input_tokens * price["input"] + output_tokens * price["output"]) / 1_000_000
