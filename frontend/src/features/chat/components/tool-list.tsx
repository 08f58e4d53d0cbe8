import type { AgentToolGroup } from "@/client";

type ToolListProps = {
  groups: AgentToolGroup[];
};

function groupLabel(group: AgentToolGroup): string {
  return group.source === "built-in" ? "Built-in" : `MCP server ${group.source.slice("mcp:".length)}`;
}

/** The tools the agent may call, by source, and which ones ask for approval first. */
export function ToolList({ groups }: ToolListProps) {
  if (groups.length === 0) return null;
  return (
    <details className="w-full max-w-md text-left text-sm">
      <summary className="cursor-pointer text-muted-foreground">Available tools</summary>
      <div className="mt-2 grid gap-3">
        {groups.map((group) => (
          <section key={group.source} aria-label={groupLabel(group)}>
            <h3 className="font-medium">
              {groupLabel(group)}
              {group.status !== "ok" && (
                <span className="ml-2 text-xs text-destructive">unavailable ({group.status})</span>
              )}
            </h3>
            <ul className="mt-1 grid gap-1">
              {group.tools.map((tool) => (
                <li key={tool.name}>
                  <code>{tool.name}</code>
                  {tool.needs_approval && (
                    <span className="ml-2 rounded border px-1 text-xs text-muted-foreground">
                      needs approval
                    </span>
                  )}
                  {tool.description && <p className="text-xs text-muted-foreground">{tool.description}</p>}
                </li>
              ))}
            </ul>
          </section>
        ))}
      </div>
    </details>
  );
}
