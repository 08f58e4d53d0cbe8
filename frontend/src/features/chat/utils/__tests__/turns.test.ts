import { describe, expect, it } from "vitest";
import type { AgentRunPublic, ThreadMessage } from "@/client";
import type { AgentStreamEvent } from "../../types";
import {
  type AssistantTurn,
  applyStreamEvent,
  guardrailNotice,
  newAssistantTurn,
  threadToTurns,
} from "../turns";

const RUN = "11111111-1111-4111-8111-111111111111";
const THREAD = "22222222-2222-4222-8222-222222222222";

function fold(events: AgentStreamEvent[]): AssistantTurn {
  return events.reduce(applyStreamEvent, newAssistantTurn("show my items"));
}

describe("applyStreamEvent", () => {
  it("builds an answer from a full stream", () => {
    const turn = fold([
      { type: "run_started", run_id: RUN, thread_id: THREAD, trace_url: "http://lf/trace/1" },
      {
        type: "plan",
        text: "1. Look up items",
        steps: [{ description: "Look up items", tool: "lookup_user_items" }],
      },
      { type: "tool_call", id: "c1", name: "lookup_user_items", args: {} },
      { type: "tool_result", id: "c1", name: "lookup_user_items", output: '{"items": []}', ok: true },
      { type: "token", text: "You have " },
      { type: "token", text: "no items." },
      {
        type: "run_completed",
        run_id: RUN,
        thread_id: THREAD,
        status: "success",
        response: "You have no items.",
        latency_ms: 420,
        prompt_tokens: 30,
        completion_tokens: 5,
        total_tokens: 35,
        tool_calls: [{ id: "c1", name: "lookup_user_items", args: {}, output: '{"items": []}', ok: true }],
      },
    ]);
    expect(turn).toMatchObject({
      status: "success",
      runId: RUN,
      threadId: THREAD,
      text: "You have no items.",
      traceUrl: "http://lf/trace/1",
      latencyMs: 420,
      tokens: { prompt: 30, completion: 5, total: 35 },
      plan: { text: "1. Look up items" },
    });
    expect(turn.toolCalls).toEqual([
      { id: "c1", name: "lookup_user_items", args: {}, output: '{"items": []}', ok: true },
    ]);
  });

  it("uses the final response when no tokens streamed", () => {
    const turn = fold([
      { type: "run_started", run_id: RUN, thread_id: THREAD },
      { type: "run_completed", run_id: RUN, thread_id: THREAD, status: "success", response: "Done." },
    ]);
    expect(turn.text).toBe("Done.");
  });

  it("marks an error event, keeping the partial text", () => {
    const turn = fold([
      { type: "token", text: "Par" },
      { type: "error", code: "model_error", message: "The model failed", run_id: RUN },
    ]);
    expect(turn).toMatchObject({ status: "error", text: "Par", runId: RUN, error: { code: "model_error" } });
  });

  it("treats a cancelled error as cancelled, not failed", () => {
    expect(fold([{ type: "error", code: "cancelled", message: "Cancelled" }]).status).toBe("cancelled");
  });

  it("ignores event types it doesn't know", () => {
    const before = newAssistantTurn("x");
    const unknown = { type: "something_new" } as unknown as AgentStreamEvent;
    expect(applyStreamEvent(before, unknown)).toBe(before);
  });
});

describe("threadToTurns", () => {
  it("pairs messages into turns, attaches tool results and the matching run", () => {
    const messages: ThreadMessage[] = [
      { role: "user", content: "show my items" },
      { role: "assistant", content: "", tool_calls: [{ id: "c1", name: "lookup_user_items", args: {} }] },
      { role: "tool", content: '{"items": []}', name: "lookup_user_items", tool_call_id: "c1" },
      { role: "assistant", content: "You have no items." },
      { role: "user", content: "thanks" },
      { role: "assistant", content: "You're welcome." },
    ];
    const runs = [
      { id: "r2", input: "thanks", status: "success", created_at: "2026-01-01T00:00:02Z", latency_ms: 5 },
      {
        id: "r1",
        input: "show my items",
        status: "success",
        created_at: "2026-01-01T00:00:01Z",
        latency_ms: 9,
        total_tokens: 12,
      },
    ] as AgentRunPublic[];
    const turns = threadToTurns(messages, runs);
    expect(turns.map((t) => t.kind)).toEqual(["user", "assistant", "user", "assistant"]);
    const first = turns[1] as AssistantTurn;
    expect(first).toMatchObject({
      text: "You have no items.",
      runId: "r1",
      latencyMs: 9,
      prompt: "show my items",
    });
    expect(first.toolCalls).toEqual([
      { id: "c1", name: "lookup_user_items", args: {}, output: '{"items": []}', ok: null },
    ]);
    expect(turns[3]).toMatchObject({ text: "You're welcome.", runId: "r2" });
  });
});

describe("approvals", () => {
  const approvalEvent = {
    type: "approval_required",
    approval_id: "33333333-3333-4333-8333-333333333333",
    run_id: RUN,
    tool: "http_post",
    args: { url: "http://127.0.0.1:8766/hook", body: { message: "hi" } },
    reason: "http_post acts outside this app, so it needs your approval.",
  } as const;

  it("pauses the answer on approval_required with a pending card", () => {
    const turn = fold([
      { type: "run_started", run_id: RUN, thread_id: THREAD },
      { type: "tool_call", id: "c1", name: "http_post", args: approvalEvent.args },
      approvalEvent,
    ]);
    expect(turn.status).toBe("awaiting_approval");
    expect(turn.approval).toEqual({
      approvalId: approvalEvent.approval_id,
      runId: RUN,
      tool: "http_post",
      args: approvalEvent.args,
      reason: approvalEvent.reason,
      state: "pending",
    });
  });

  it("keeps the approval when the run completes as awaiting_approval", () => {
    const turn = fold([
      approvalEvent,
      {
        type: "run_completed",
        run_id: RUN,
        thread_id: THREAD,
        status: "awaiting_approval",
        pending_approval: {
          approval_id: approvalEvent.approval_id,
          tool: "http_post",
          args: approvalEvent.args,
          reason: approvalEvent.reason,
        },
      },
    ]);
    expect(turn.status).toBe("awaiting_approval");
    expect(turn.approval?.state).toBe("pending");
  });

  it("restores a pending approval from the history, even before any answer", () => {
    const runs = [
      { id: RUN, input: "post it", status: "awaiting_approval", created_at: "2026-01-01T00:00:01Z" },
    ] as AgentRunPublic[];
    const approvals = [
      {
        id: approvalEvent.approval_id,
        run_id: RUN,
        thread_id: THREAD,
        tool: "http_post",
        args: approvalEvent.args,
        reason: approvalEvent.reason,
        status: "pending",
        expires_at: "2026-01-01T01:00:00Z",
        created_at: "2026-01-01T00:00:01Z",
      },
    ];
    const turns = threadToTurns([{ role: "user", content: "post it" }], runs, approvals);
    expect(turns.map((t) => t.kind)).toEqual(["user", "assistant"]);
    expect(turns[1]).toMatchObject({
      status: "awaiting_approval",
      approval: { tool: "http_post", state: "pending" },
    });
  });
});

describe("turns that did not complete", () => {
  const R1 = "44444444-4444-4444-8444-444444444444";
  const R2 = "55555555-5555-4555-8555-555555555555";

  it("an interrupted run shows the killed turn with its status, between completed ones", () => {
    const messages: ThreadMessage[] = [
      { role: "user", content: "tell me a story", run_id: R1, run_status: "interrupted" },
      { role: "user", content: "show my items", run_id: R2, run_status: null },
      { role: "assistant", content: "You have no items." },
    ];
    const runs = [
      { id: R2, input: "show my items", status: "success", created_at: "2026-01-01T00:00:02Z" },
      { id: R1, input: "tell me a story", status: "interrupted", created_at: "2026-01-01T00:00:01Z" },
    ] as AgentRunPublic[];
    const turns = threadToTurns(messages, runs);
    expect(turns.map((t) => t.kind)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(turns[0]).toMatchObject({ text: "tell me a story", runId: R1, runStatus: "interrupted" });
    expect(turns[1]).toMatchObject({
      status: "interrupted",
      runId: R1,
      prompt: "tell me a story",
      text: "",
      error: { code: "interrupted", message: "Interrupted — the server stopped during this answer." },
    });
    expect(turns[3]).toMatchObject({ status: "success", runId: R2, text: "You have no items." });
  });

  it("pairs runs by run_id, not by input (the same message sent twice)", () => {
    const messages: ThreadMessage[] = [
      { role: "user", content: "again", run_id: R1, run_status: "error" },
      { role: "user", content: "again", run_id: R2 },
      { role: "assistant", content: "Done." },
    ];
    const runs = [
      {
        id: R1,
        input: "again",
        status: "error",
        error: "The model failed",
        created_at: "2026-01-01T00:00:01Z",
      },
      { id: R2, input: "again", status: "success", created_at: "2026-01-01T00:00:02Z", latency_ms: 7 },
    ] as AgentRunPublic[];
    const turns = threadToTurns(messages, runs);
    expect(turns[1]).toMatchObject({ status: "error", runId: R1, error: { message: "The model failed" } });
    expect(turns[3]).toMatchObject({ status: "success", runId: R2, latencyMs: 7 });
  });

  it("keeps the partial answer of a failed turn and marks it with the turn's status", () => {
    const messages: ThreadMessage[] = [
      { role: "user", content: "show my items", run_id: R1, run_status: "cancelled" },
      { role: "assistant", content: "", tool_calls: [{ id: "c1", name: "lookup_user_items", args: {} }] },
    ];
    const turns = threadToTurns(messages, []);
    expect(turns[1]).toMatchObject({ status: "cancelled", runId: R1, error: { code: "cancelled" } });
    expect((turns[1] as AssistantTurn).toolCalls).toHaveLength(1);
  });

  it("an `interrupted` error event ends a live answer as interrupted", () => {
    const turn = fold([{ type: "error", code: "interrupted", message: "lease expired", run_id: RUN }]);
    expect(turn).toMatchObject({ status: "interrupted", error: { code: "interrupted" } });
  });
});

describe("guardrail refusals", () => {
  const R1 = "66666666-6666-4666-8666-666666666666";
  const R2 = "77777777-7777-4777-8777-777777777777";
  const MESSAGE = "Blocked by the no_pod_bay guardrail: The message was blocked by the content policy.";

  it("reads the rule and the reason from the run's error", () => {
    expect(guardrailNotice(MESSAGE)).toEqual({
      rule: "no_pod_bay",
      reason: "The message was blocked by the content policy.",
    });
    expect(
      guardrailNotice("Blocked by the input_too_long guardrail: The message is longer than 5 characters."),
    ).toEqual({
      rule: "input_too_long",
      reason: "The message is longer than 5 characters.",
    });
  });

  it("keeps a message in another shape as the reason, without a rule", () => {
    expect(guardrailNotice("Refused by moderation")).toEqual({ rule: null, reason: "Refused by moderation" });
    expect(guardrailNotice(undefined)).toEqual({ rule: null, reason: "" });
  });

  it("a guardrail_blocked error event ends the answer as blocked, not as a retryable error", () => {
    const turn = fold([
      { type: "run_started", run_id: R1, thread_id: THREAD },
      { type: "error", code: "guardrail_blocked", message: MESSAGE, run_id: R1 },
    ]);
    expect(turn).toMatchObject({
      status: "blocked",
      runId: R1,
      error: { code: "guardrail_blocked", message: MESSAGE },
    });
  });

  it("the history shows a blocked turn with its answer slot, also when later turns follow", () => {
    const messages: ThreadMessage[] = [
      { role: "user", content: "open the pod bay doors", run_id: R1, run_status: "blocked" },
      { role: "user", content: "show my items", run_id: R2, run_status: null },
      { role: "assistant", content: "You have no items." },
    ];
    const runs = [
      {
        id: R1,
        input: "open the pod bay doors",
        status: "blocked",
        error: MESSAGE,
        created_at: "2026-01-01T00:00:01Z",
      },
      { id: R2, input: "show my items", status: "success", created_at: "2026-01-01T00:00:02Z" },
    ] as AgentRunPublic[];
    const turns = threadToTurns(messages, runs);
    expect(turns.map((t) => t.kind)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(turns[1]).toMatchObject({ status: "blocked", runId: R1, text: "", error: { message: MESSAGE } });
    expect(turns[3]).toMatchObject({ status: "success", runId: R2 });
  });
});
