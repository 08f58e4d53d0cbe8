"""Who may call the protocol (a session token or a personal API key), and its rate limit
(one per-user budget with `/api/v1/agent/run`)."""

from app.api.deps import CurrentUserOrApiKey
from app.api.rate_limit import agent_protocol_rate_limit

ProtocolUser = CurrentUserOrApiKey

__all__ = ["ProtocolUser", "agent_protocol_rate_limit"]
