import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { AgentRunPublic } from "@/client";
import { renderWithRouter } from "@/testing/render-with-router";
import type { AssistantTurn } from "../../utils/conversation";
import { AssistantMessage, UserMessage } from "../chat-message";

const RUN = "11111111-1111-4111-8111-111111111111";

function turn(overrides: Partial<AssistantTurn>): AssistantTurn {
  return {
    kind: "assistant",
    id: "a1",
    prompt: "show my items",
    status: "streaming",
    text: "",
    toolCalls: [],
    approvals: [],
    ...overrides,
  };
}

const RUN_RECORD: AgentRunPublic = {
  id: RUN,
  thread_id: "t1",
  status: "success",
  input: "show my items",
  created_at: "2026-12-01T10:00:00Z",
  latency_ms: 1250,
  prompt_tokens: 30,
  completion_tokens: 12,
  total_tokens: 42,
  tool_call_count: 0,
  thread_deleted: false,
  evaluations: {},
  trace_url: "http://localhost:3001/project/p/traces/abc",
};

describe("AssistantMessage", () => {
  it("shows the plan, a running tool call and a typing indicator while streaming", async () => {
    await renderWithRouter(
      <AssistantMessage
        turn={turn({
          plan: {
            text: "",
            steps: [
              { description: "Look up your items", tool: "lookup_user_items" },
              { description: "Answer" },
            ],
          },
          toolCalls: [{ id: "c1", name: "lookup_user_items", args: { email: "a@b.co" } }],
        })}
      />,
    );
    expect(await screen.findByText("Look up your items")).toBeInTheDocument();
    expect(screen.getByTestId("tool-call")).toHaveTextContent("lookup_user_items");
    expect(screen.getByTestId("tool-call")).toHaveTextContent("running");
    expect(screen.getByRole("status", { name: "The agent is working" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Run details" })).toBeNull();
  });

  it("expands a finished tool call to its arguments and result", async () => {
    const user = userEvent.setup();
    await renderWithRouter(
      <AssistantMessage
        turn={turn({
          status: "success",
          text: "done",
          toolCalls: [
            {
              id: "c1",
              name: "lookup_user_items",
              args: { email: "a@b.co" },
              output: '{"count": 2}',
              ok: true,
            },
          ],
        })}
      />,
    );
    const card = await screen.findByTestId("tool-call");
    expect(card).toHaveTextContent("done");
    await user.click(screen.getByRole("button", { name: /lookup_user_items/ }));
    expect(card).toHaveTextContent('"email": "a@b.co"');
    expect(card).toHaveTextContent('"count": 2');
  });

  it("shows status, latency, tokens and links to the run and its trace", async () => {
    await renderWithRouter(
      <AssistantMessage
        turn={turn({
          status: "success",
          text: "You have **2** items.",
          runId: RUN,
          run: RUN_RECORD,
        })}
      />,
    );
    const stats = await screen.findByTestId("run-stats");
    expect(stats).toHaveTextContent("success");
    expect(stats).toHaveTextContent("1.3 s");
    expect(stats).toHaveTextContent("42 tokens");
    expect(screen.getByRole("link", { name: "Run details" })).toHaveAttribute("href", `/runs/${RUN}`);
    expect(screen.getByRole("link", { name: /Trace/ })).toHaveAttribute(
      "href",
      "http://localhost:3001/project/p/traces/abc",
    );
    expect(screen.getByText("2").tagName).toBe("STRONG");
  });

  it("shows an error inline with a Retry button", async () => {
    const onRetry = vi.fn();
    const user = userEvent.setup();
    await renderWithRouter(
      <AssistantMessage turn={turn({ status: "error", error: "The model timed out" })} onRetry={onRetry} />,
    );
    expect(await screen.findByText("The model timed out")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Retry" }));
    expect(onRetry).toHaveBeenCalledOnce();
  });

  it("shows a blocked message as a guardrail notice naming the rule, with no Retry", async () => {
    await renderWithRouter(
      <AssistantMessage
        turn={turn({
          status: "blocked",
          runId: RUN,
          error: "Blocked by the no_pod_bay guardrail: The message was blocked by the content policy.",
        })}
        onRetry={vi.fn()}
      />,
    );
    const notice = await screen.findByTestId("guardrail-notice");
    expect(notice).toHaveTextContent("Message blocked");
    expect(notice).toHaveTextContent(
      "Your message was blocked by the no_pod_bay guardrail: The message was blocked by the content policy.",
    );
    expect(notice).toHaveTextContent("Edit your message and send it again.");
    expect(screen.queryByRole("button", { name: "Retry" })).toBeNull();
    expect(screen.queryByTestId("turn-status")).toBeNull();
    expect(screen.getByTestId("run-stats")).toHaveTextContent("blocked");
  });

  it("offers copy, rating (the feedback form) and regenerate on a finished answer", async () => {
    const onRegenerate = vi.fn();
    const user = userEvent.setup();
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    await renderWithRouter(
      <AssistantMessage
        turn={turn({
          status: "success",
          text: "Use `ls`:\n\n```sh\nls -la\n```",
          runId: RUN,
          run: RUN_RECORD,
        })}
        onRegenerate={onRegenerate}
        feedback={(runId) => <p>feedback for {runId}</p>}
      />,
    );
    await user.click(await screen.findByRole("button", { name: "Copy answer" }));
    expect(writeText).toHaveBeenLastCalledWith("Use `ls`:\n\n```sh\nls -la\n```");
    await user.click(screen.getByRole("button", { name: "Copy code" }));
    expect(writeText).toHaveBeenLastCalledWith("ls -la\n");
    expect(screen.queryByText(`feedback for ${RUN}`)).toBeNull();
    await user.click(screen.getByRole("button", { name: "Rate this answer" }));
    expect(screen.getByText(`feedback for ${RUN}`)).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Regenerate answer" }));
    expect(onRegenerate).toHaveBeenCalledOnce();
  });

  it("has no actions while the answer streams", async () => {
    await renderWithRouter(
      <AssistantMessage
        turn={turn({ text: "Par", runId: RUN })}
        onRegenerate={vi.fn()}
        feedback={() => null}
      />,
    );
    await screen.findByTestId("answer");
    expect(screen.queryByTestId("answer-actions")).toBeNull();
  });
});

describe("UserMessage", () => {
  it("edits and resends the message; the branch switcher moves between versions", async () => {
    const onEdit = vi.fn();
    const go = vi.fn();
    const user = userEvent.setup();
    await renderWithRouter(
      <UserMessage
        turn={{ kind: "user", id: "u1", text: "show my items", messageIndex: 2 }}
        onEdit={onEdit}
        branch={{ current: 1, total: 2, go }}
        maxChars={20}
      />,
    );
    expect(await screen.findByTestId("branch-position")).toHaveTextContent("2/2");
    expect(screen.getByRole("button", { name: "Next version" })).toBeDisabled();
    await user.click(screen.getByRole("button", { name: "Previous version" }));
    expect(go).toHaveBeenCalledWith(0);
    await user.click(screen.getByRole("button", { name: "Edit message" }));
    const box = screen.getByLabelText("Edit your message");
    await user.clear(box);
    await user.type(box, "this message is far too long");
    expect(screen.getByRole("alert")).toHaveTextContent("Too long");
    expect(screen.getByRole("button", { name: "Send" })).toBeDisabled();
    await user.clear(box);
    await user.type(box, "show my notes");
    await user.click(screen.getByRole("button", { name: "Send" }));
    expect(onEdit).toHaveBeenCalledWith("show my notes");
  });

  it("has no Edit when it can't branch", async () => {
    await renderWithRouter(<UserMessage turn={{ kind: "user", id: "u1", text: "hi" }} />);
    await screen.findByTestId("user-message");
    expect(screen.queryByRole("button", { name: "Edit message" })).toBeNull();
  });
});
