import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ToolList } from "../tool-list";

describe("ToolList", () => {
  it("groups tools by source and marks the ones that need approval", () => {
    render(
      <ToolList
        groups={[
          {
            source: "built-in",
            status: "ok",
            tools: [{ name: "http_post", description: "Send a JSON body.", needs_approval: true }],
          },
          {
            source: "mcp:kb",
            status: "ok",
            tools: [{ name: "kb_echo", description: "Repeat the text back.", needs_approval: false }],
          },
          { source: "mcp:down", status: "down: ConnectError", tools: [] },
        ]}
      />,
    );
    const builtIn = screen.getByRole("region", { name: "Built-in" });
    expect(within(builtIn).getByText("http_post")).toBeInTheDocument();
    expect(within(builtIn).getByText("needs approval")).toBeInTheDocument();
    const kb = screen.getByRole("region", { name: "MCP server kb" });
    expect(within(kb).getByText("Repeat the text back.")).toBeInTheDocument();
    expect(within(kb).queryByText("needs approval")).toBeNull();
    const down = screen.getByRole("region", { name: "MCP server down" });
    expect(within(down).getByText("unavailable (down: ConnectError)")).toBeInTheDocument();
  });
});
