import { describe, expect, it } from "vitest";
import type { ThreadMessage } from "@/client";
import type { ActiveRun } from "../active-run";
import { threadView } from "../rejoin";
import { type AssistantTurn, newAssistantTurn } from "../turns";

const THREAD = "22222222-2222-4222-8222-222222222222";
const DONE = "11111111-1111-4111-8111-111111111111";
const LIVE = "33333333-3333-4333-8333-333333333333";

const history: ThreadMessage[] = [
  { role: "user", content: "show my items", run_id: DONE },
  { role: "assistant", content: "You have no items." },
];

function remembered(runId: string, text: string, lastEventId = "7"): ActiveRun {
  const answer: AssistantTurn = { ...newAssistantTurn("tell me a story"), runId, threadId: THREAD, text };
  return { threadId: THREAD, runId, lastEventId, answer };
}

describe("threadView", () => {
  it("a finished thread is shown as is, with nothing to rejoin", () => {
    const view = threadView(THREAD, history);
    expect(view.rejoin).toBeUndefined();
    expect(view.forget).toBe(false);
    expect(view.turns.map((t) => t.kind)).toEqual(["user", "assistant"]);
  });

  it("a running last turn with nothing remembered replays the run from its start", () => {
    const messages: ThreadMessage[] = [
      ...history,
      { role: "user", content: "tell me a story", run_id: LIVE, run_status: "running" },
      // A partial checkpoint of the live turn: replaced by the replay, never shown twice.
      { role: "assistant", content: "", tool_calls: [{ id: "c1", name: "lookup_user_items", args: {} }] },
    ];
    const view = threadView(THREAD, messages);
    expect(view.rejoin?.lastEventId).toBeUndefined();
    expect(view.rejoin?.answer).toMatchObject({
      runId: LIVE,
      threadId: THREAD,
      status: "streaming",
      text: "",
    });
    expect(view.rejoin?.answer.toolCalls).toEqual([]);
    expect(view.turns.map((t) => t.kind)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(view.turns.filter((t) => t.kind === "user").map((t) => t.text)).toEqual([
      "show my items",
      "tell me a story",
    ]);
    expect(view.turns.at(-1)).toBe(view.rejoin?.answer);
  });

  it("a remembered run resumes after its last event, showing the answer as it stood", () => {
    const messages: ThreadMessage[] = [
      ...history,
      { role: "user", content: "tell me a story", run_id: LIVE, run_status: "pending" },
    ];
    const memory = remembered(LIVE, "Once upon");
    const view = threadView(THREAD, messages, [], [], memory);
    expect(view.rejoin?.lastEventId).toBe("7");
    expect(view.rejoin?.answer).toMatchObject({ text: "Once upon", status: "streaming", runId: LIVE });
    // A fresh id: a stream left behind with the old one can't write into this turn.
    expect(view.rejoin?.answer.id).not.toBe(memory.answer.id);
    expect(view.turns.filter((t) => t.kind === "user")).toHaveLength(2);
  });

  it("a remembered run of another turn is not used for the running one", () => {
    const messages: ThreadMessage[] = [
      { role: "user", content: "tell me a story", run_id: LIVE, run_status: "running" },
    ];
    const view = threadView(THREAD, messages, [], [], remembered(DONE, "stale"));
    expect(view.rejoin?.lastEventId).toBeUndefined();
    expect(view.rejoin?.answer.text).toBe("");
  });

  it("a remembered run that the history shows as finished is forgotten, not rejoined", () => {
    const view = threadView(THREAD, history, [], [], remembered(DONE, "You have"));
    expect(view.rejoin).toBeUndefined();
    expect(view.forget).toBe(true);
  });

  it("a remembered run the history doesn't show yet is still followed, under its message", () => {
    const view = threadView(THREAD, history, [], [], remembered(LIVE, "Once"));
    expect(view.rejoin).toMatchObject({ lastEventId: "7", answer: { runId: LIVE, text: "Once" } });
    expect(view.turns.map((t) => (t.kind === "user" ? t.text : t.kind))).toEqual([
      "show my items",
      "assistant",
      "tell me a story",
      "assistant",
    ]);
  });

  it("an interrupted last turn is shown with its status, not rejoined", () => {
    const messages: ThreadMessage[] = [
      { role: "user", content: "tell me a story", run_id: LIVE, run_status: "interrupted" },
    ];
    const view = threadView(THREAD, messages, [], [], remembered(LIVE, "Once"));
    expect(view.rejoin).toBeUndefined();
    expect(view.forget).toBe(false);
    // What this tab saw stream in before the server died is still shown.
    expect(view.turns.at(-1)).toMatchObject({
      kind: "assistant",
      status: "interrupted",
      runId: LIVE,
      text: "Once",
      error: { code: "interrupted" },
    });
  });

  it("the checkpoint's part of a failed turn wins over what the tab remembers", () => {
    const messages: ThreadMessage[] = [
      { role: "user", content: "tell me a story", run_id: LIVE, run_status: "error" },
      { role: "assistant", content: "Once upon a time" },
    ];
    const view = threadView(THREAD, messages, [], [], remembered(LIVE, "Once"));
    expect(view.turns.at(-1)).toMatchObject({ status: "error", text: "Once upon a time" });
  });
});
