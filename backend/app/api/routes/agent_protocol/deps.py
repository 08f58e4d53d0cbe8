"""Who may call the protocol, and its rate limit."""

from app.api.deps import CurrentUser
from app.core.rate_limit import agent_rate_limit

ProtocolUser = CurrentUser
agent_protocol_rate_limit = agent_rate_limit
