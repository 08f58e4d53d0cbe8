"""Tools from MCP servers: configuration, long-lived connections, conversion and limits."""
