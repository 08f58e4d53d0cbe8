"""Judge cost from the one price table, LLM_PRICES_JSON (USD per 1M tokens, longest prefix wins)."""

from app.core.config import settings


def price_for(model: str) -> dict[str, float] | None:
    """{"input", "output"} USD per 1M tokens for `model`, or None when the table lacks it."""
    name = model.lower().rsplit("/", 1)[-1]
    # Longest prefix wins so dated snapshots ("gpt-4o-mini-2024-07-18") map to their family.
    for prefix in sorted(settings.LLM_PRICES_JSON, key=len, reverse=True):
        if name.startswith(prefix.lower()):
            return settings.LLM_PRICES_JSON[prefix]
    return None


def cost_usd(model: str, input_tokens: int, output_tokens: int) -> float | None:
    """The cost of one call; None (unknown, not zero) when the model has no price."""
    price = price_for(model)
    if price is None:
        return None
    return (input_tokens * price.get("input", 0.0) + output_tokens * price.get("output", 0.0)) / 1e6
