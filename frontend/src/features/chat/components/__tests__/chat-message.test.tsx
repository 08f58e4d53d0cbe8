import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { renderWithRouter } from "@/testing/render-with-router";
import { type AssistantTurn, newAssistantTurn } from "../../utils/turns";
import { AssistantMessage } from "../chat-message";

const RUN = "11111111-1111-4111-8111-111111111111";

function turn(overrides: Partial<AssistantTurn>): AssistantTurn {
  return { ...newAssistantTurn("show my items"), ...overrides };
}

describe("AssistantMessage", () => {
  it("shows the plan, a running tool call and a typing indicator while streaming", async () => {
    await renderWithRouter(
      <AssistantMessage
        turn={turn({
          plan: { text: "", steps: [{ description: "Look up your items", tool: "lookup_user_items" }] },
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
          latencyMs: 1250,
          tokens: { prompt: 30, completion: 12, total: 42 },
          traceUrl: "http://localhost:3001/project/p/traces/abc",
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
      <AssistantMessage
        turn={turn({ status: "error", error: { code: "model_timeout", message: "The model timed out" } })}
        onRetry={onRetry}
      />,
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
          error: {
            code: "guardrail_blocked",
            message: "Blocked by the no_pod_bay guardrail: The message was blocked by the content policy.",
          },
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
});
