"""The tools a user's runs may call now, grouped by source, as the API lists them."""

from langchain_core.tools import BaseTool

from app.agents.mcp.convert import MCP_SERVER
from app.agents.tools import approval_required_tools
from app.core.config import Settings
from app.models import AgentToolGroup, AgentToolPublic

BUILT_IN = "built-in"


def tool_groups(
    tools: list[BaseTool], config: Settings, mcp_status: dict[str, str]
) -> list[AgentToolGroup]:
    """Built-in tools first, then each configured MCP server (a down one with no tools)."""
    approval = approval_required_tools(tools, config)
    groups = {BUILT_IN: AgentToolGroup(source=BUILT_IN, status="ok", tools=[])}
    for name, status in mcp_status.items():
        groups[f"mcp:{name}"] = AgentToolGroup(source=f"mcp:{name}", status=status, tools=[])
    for tool in tools:
        server = (tool.metadata or {}).get(MCP_SERVER)
        source = f"mcp:{server}" if server else BUILT_IN
        groups[source].tools.append(
            AgentToolPublic(
                name=tool.name, description=tool.description, needs_approval=tool.name in approval
            )
        )
    return list(groups.values())
