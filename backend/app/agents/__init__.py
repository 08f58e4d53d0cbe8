"""The planner/executor agent: graph, tools, model factory, checkpointer and service."""
