import { describe, expect, it } from "vitest";
import type { AgentRunPublic, ApprovalPublic } from "@/client";
import {
  type AssistantTurn,
  buildConversation,
  planWorthShowing,
  runIdOf,
  type StateMessage,
  type Turn,
  type UserTurn,
} from "../conversation";

const R1 = "11111111-1111-4111-8111-111111111111";
const R2 = "22222222-2222-4222-8222-222222222222";
const R3 = "33333333-3333-4333-8333-333333333333";
const THREAD = "99999999-9999-4999-8999-999999999999";

function run(id: string, minute: number, patch: Partial<AgentRunPublic> = {}): AgentRunPublic {
  return {
    id,
    thread_id: THREAD,
    status: "success",
    input: `question ${id.slice(0, 1)}`,
    created_at: `2026-12-01T10:0${minute}:00Z`,
    prompt_tokens: 1,
    completion_tokens: 2,
    total_tokens: 3,
    tool_call_count: 0,
    thread_deleted: false,
    evaluations: {},
    ...patch,
  };
}

const human = (runId: string, text: string): StateMessage => ({
  type: "human",
  id: `run-${runId}`,
  content: text,
});
const ai = (text: string, tool_calls: StateMessage["tool_calls"] = []): StateMessage => ({
  type: "ai",
  id: `ai-${text.length}-${tool_calls.length}`,
  content: text,
  tool_calls,
});

const users = (turns: Turn[]) => turns.filter((t): t is UserTurn => t.kind === "user");
const answers = (turns: Turn[]) => turns.filter((t): t is AssistantTurn => t.kind === "assistant");

function approval(patch: Partial<ApprovalPublic>): ApprovalPublic {
  return {
    id: "a1",
    run_id: R1,
    thread_id: THREAD,
    tool: "http_post",
    args: { url: "http://x" },
    reason: "sends data out",
    status: "pending",
    expires_at: "2026-12-02T00:00:00Z",
    created_at: "2026-12-01T10:00:05Z",
    ...patch,
  };
}

describe("buildConversation", () => {
  it("groups the branch's messages into questions and answers, with each run's stats", () => {
    const turns = buildConversation({
      messages: [
        human(R1, "show my items"),
        ai("", [{ id: "c1", name: "lookup_user_items", args: {} }]),
        { type: "tool", tool_call_id: "c1", name: "lookup_user_items", content: '{"items": []}' },
        ai("You have no items."),
        human(R2, "thanks"),
        ai("You're welcome."),
      ],
      runs: [run(R1, 1, { plan: "1. Look up items (tool: lookup_user_items)" }), run(R2, 2)],
    });
    expect(turns.map((t) => t.kind)).toEqual(["user", "assistant", "user", "assistant"]);
    const [first, second] = answers(turns);
    expect(first).toMatchObject({
      status: "success",
      text: "You have no items.",
      runId: R1,
      prompt: "show my items",
      questionIndex: 0,
    });
    expect(first?.toolCalls).toEqual([
      { id: "c1", name: "lookup_user_items", args: {}, output: '{"items": []}', ok: true, status: "done" },
    ]);
    expect(first?.run?.total_tokens).toBe(3);
    expect(second).toMatchObject({ text: "You're welcome.", runId: R2, questionIndex: 4 });
    expect(users(turns).map((u) => u.messageIndex)).toEqual([0, 4]);
  });

  it("a tool result with status error is a failed call, live and after a reload alike", () => {
    const turns = buildConversation({
      messages: [
        human(R1, "post it"),
        ai("", [{ id: "c1", name: "http_post", args: {} }]),
        {
          type: "tool",
          tool_call_id: "c1",
          name: "http_post",
          content: '{"error": "refused"}',
          status: "error",
        },
      ],
      runs: [
        run(R1, 1, { status: "error", error: "The http_post call was rejected, so the run has no answer." }),
      ],
    });
    const [answer] = answers(turns);
    expect(answer?.toolCalls[0]?.ok).toBe(false);
    expect(answer?.toolCalls[0]?.status).toBe("failed");
    expect(answer?.status).toBe("error");
    expect(answer?.error).toContain("rejected");
  });

  it("a failed call whose approval was rejected is 'rejected', as run detail shows it", () => {
    const turns = buildConversation({
      messages: [
        human(R1, "post it"),
        ai("", [{ id: "c1", name: "http_post", args: {} }]),
        { type: "tool", tool_call_id: "c1", name: "http_post", content: "refused", status: "error" },
      ],
      runs: [run(R1, 1, { status: "error", error: "rejected" })],
      approvals: [approval({ status: "rejected", decided_at: "2026-12-01T10:00:09Z" })],
    });
    expect(answers(turns)[0]?.toolCalls[0]?.status).toBe("rejected");
  });

  it("the last answer streams while a run is going, even before its message has an id", () => {
    const turns = buildConversation({
      messages: [human(R1, "hi"), ai("Hello"), { type: "human", id: "local-1", content: "more" }, ai("Par")],
      runs: [run(R1, 1)],
      loading: true,
      liveRunId: R2,
    });
    const last = answers(turns).at(-1);
    expect(last).toMatchObject({ status: "streaming", text: "Par", runId: R2 });
    expect(answers(turns)[0]?.status).toBe("success");
  });

  it("a run's closing stream outcome reaches its answer before the runs list has the run", () => {
    const degraded = { mode: "degraded" as const, degraded_reason: "fallback" as const, model: "backup" };
    const turns = buildConversation({
      // The stream just ended: the runs list still says R2 is running, in normal mode.
      messages: [human(R1, "hi"), ai("Hello"), human(R2, "more"), ai("Sure")],
      runs: [run(R1, 1), run(R2, 2, { status: "running", mode: "normal" })],
      outcomes: { [R2]: degraded },
    });
    expect(answers(turns).map((t) => t.outcome)).toEqual([undefined, degraded]);
  });

  it("only the approval the state is paused on is live; decided ones keep their audit", () => {
    const approvals = [
      approval({ id: "old", run_id: R1, status: "superseded", created_at: "2026-12-01T10:01:05Z" }),
      approval({
        id: "done",
        run_id: R2,
        status: "rejected",
        comment: "not today",
        decided_by: "u1",
        decided_at: "2026-12-01T10:02:30Z",
      }),
      approval({ id: "now", run_id: R3, status: "pending", created_at: "2026-12-01T10:03:05Z" }),
    ];
    const messages = [
      human(R1, "post a"),
      ai(""),
      human(R2, "post b"),
      ai("Not sent."),
      human(R3, "post c"),
      ai(""),
    ];
    const runs = [
      run(R1, 1, { status: "cancelled" }),
      run(R2, 2),
      run(R3, 3, { status: "awaiting_approval" }),
    ];
    const turns = buildConversation({ messages, runs, approvals, interrupted: true });
    const cards = answers(turns).map((a) => a.approvals.map((c) => [c.approvalId, c.status, c.live]));
    expect(cards).toEqual([
      [["old", "superseded", false]],
      [["done", "rejected", false]],
      [["now", "pending", true]],
    ]);
    expect(answers(turns)[1]?.approvals[0]).toMatchObject({ comment: "not today", decidedBy: "u1" });
    expect(answers(turns)[2]?.status).toBe("awaiting_approval");
    // The same state without the interrupt (a new message superseded it): nothing is live.
    const after = buildConversation({ messages, runs, approvals, interrupted: false });
    expect(
      answers(after)
        .flatMap((a) => a.approvals)
        .some((a) => a.live),
    ).toBe(false);
    expect(answers(after)[2]?.status).toBe("awaiting_approval");
  });

  it("an unsent message (its request failed) is not shown once nothing streams", () => {
    const messages = [human(R1, "hi"), ai("Hello"), { type: "human", id: "local-9", content: "again" }];
    expect(users(buildConversation({ messages, runs: [run(R1, 1)] })).map((u) => u.text)).toEqual(["hi"]);
    const sending = buildConversation({ messages, runs: [run(R1, 1)], loading: true });
    expect(users(sending).map((u) => u.text)).toEqual(["hi", "again"]);
  });

  it("a turn killed with the server shows at its place as interrupted, with its question", () => {
    const turns = buildConversation({
      messages: [human(R1, "hi"), ai("Hello"), human(R3, "bye"), ai("Bye")],
      runs: [run(R1, 1), run(R2, 2, { status: "interrupted", input: "tell me a story" }), run(R3, 3)],
    });
    expect(users(turns).map((u) => [u.text, u.runStatus])).toEqual([
      ["hi", undefined],
      ["tell me a story", "interrupted"],
      ["bye", undefined],
    ]);
    expect(answers(turns)[1]).toMatchObject({
      status: "interrupted",
      error: "Interrupted — the server stopped during this answer.",
    });
    // Not in the state: it has no message index (no edit, no branch).
    expect(users(turns)[1]?.messageIndex).toBeUndefined();
  });

  it("a stopped or killed turn shows what this tab saw stream in (it never reached the checkpoint)", () => {
    const seen = {
      [R2]: { text: "Once upon", toolCalls: [{ id: "c1", name: "lookup_user_items", args: {} }] },
    };
    const turns = buildConversation({
      messages: [human(R1, "hi"), ai("Hello")],
      runs: [run(R1, 1), run(R2, 2, { status: "cancelled", input: "a story" })],
      seen,
    });
    expect(answers(turns)[1]).toMatchObject({ status: "cancelled", text: "Once upon", error: "Stopped." });
    expect(answers(turns)[1]?.toolCalls).toHaveLength(1);
  });

  it("a retried failure is shown once: the retry stands for it", () => {
    const turns = buildConversation({
      messages: [human(R2, "tell me a story"), ai("Once upon a time")],
      runs: [
        run(R1, 1, { status: "interrupted", input: "tell me a story" }),
        run(R2, 2, { input: "tell me a story" }),
      ],
    });
    expect(users(turns)).toHaveLength(1);
    expect(answers(turns)[0]?.status).toBe("success");
  });

  it("an unsettled failure comes before a question too new for the runs list", () => {
    const turns = buildConversation({
      messages: [{ type: "human", id: "local-1", content: "again" }],
      runs: [run(R1, 1, { status: "error", input: "first", error: "model down" })],
      loading: true,
    });
    expect(users(turns).map((u) => u.text)).toEqual(["first", "again"]);
    expect(answers(turns).map((a) => a.status)).toEqual(["error", "streaming"]);
  });

  it("a blocked message keeps its refusal (rule and reason) and stays when later turns follow", () => {
    const error = "Blocked by the no_pod_bay guardrail: no.";
    const turns = buildConversation({
      messages: [human(R2, "show my items"), ai("You have no items.")],
      runs: [run(R1, 1, { status: "blocked", input: "open the doors", error }), run(R2, 2)],
    });
    expect(users(turns).map((u) => u.runStatus)).toEqual(["blocked", undefined]);
    expect(answers(turns)[0]).toMatchObject({ status: "blocked", error });
  });
});

describe("runIdOf and planWorthShowing", () => {
  it("reads the run id from the user message's id only", () => {
    expect(runIdOf(human(R1, "x"))).toBe(R1);
    expect(runIdOf({ type: "ai", id: `run-${R1}`, content: "" })).toBeUndefined();
    expect(runIdOf({ type: "human", id: "local-1", content: "" })).toBeUndefined();
  });

  it("hides the one-step 'Answer directly' plan of a plain reply", () => {
    expect(
      planWorthShowing({ text: "1. Answer directly", steps: [{ description: "Answer directly" }] }),
    ).toBe(false);
    expect(planWorthShowing({ text: "1. Answer directly", steps: [] })).toBe(false);
    expect(
      planWorthShowing({
        text: "1. Look up",
        steps: [{ description: "Look up", tool: "lookup_user_items" }],
      }),
    ).toBe(true);
    expect(planWorthShowing({ text: "1. Look up (tool: lookup_user_items)", steps: [] })).toBe(true);
    expect(planWorthShowing(undefined)).toBe(false);
  });
});
