import type {
  AgentRunPublic,
  ApprovalPublic,
  DataFlow,
  PlanStep,
  ThreadMessage,
  ToolCallRecord,
  ToolCallStatus,
} from "@/client";
import type { AgentStreamEvent } from "../types";

export type ToolCallView = {
  id: string;
  name: string;
  args: Record<string, unknown>;
  output?: string | null;
  ok?: boolean | null;
  /** Derived by the backend (`tool_call_status`), the same live, after reload and in run detail. */
  status?: ToolCallStatus | null;
};

export type TurnStatus =
  | "streaming"
  | "success"
  | "error"
  | "cancelled"
  | "awaiting_approval"
  | (string & {});

/** A tool call paused for the user's decision (issue: human approval of side-effecting tools). */
export type ApprovalView = {
  approvalId: string;
  runId: string;
  tool: string;
  args: Record<string, unknown>;
  reason: string;
  /** Where the call would send data and what it carries (runs that read outside content). */
  dataFlow?: DataFlow | null;
  /** "pending" until decided; then the decision sent ("approve" | "reject" | "edit"). */
  state: "pending" | "deciding" | "approve" | "reject" | "edit";
  error?: string;
};

export type UserTurn = {
  kind: "user";
  id: string;
  text: string;
  /** The run this message started (from the thread's history). */
  runId?: string | null;
  /** That run's status when the turn did not complete (interrupted, error, cancelled, pending, running). */
  runStatus?: string | null;
};

export type AssistantTurn = {
  kind: "assistant";
  id: string;
  /** The user message this answers (sent again by Retry). */
  prompt: string;
  status: TurnStatus;
  text: string;
  runId?: string;
  threadId?: string;
  plan?: { text: string; steps: PlanStep[] };
  toolCalls: ToolCallView[];
  latencyMs?: number | null;
  tokens?: { prompt: number; completion: number; total: number };
  model?: string | null;
  traceUrl?: string | null;
  error?: { code: string; message: string };
  approval?: ApprovalView;
};

export type Turn = UserTurn | AssistantTurn;

/** Run statuses of a turn that ended without an answer: shown with a Retry. */
export const FAILED_STATUSES: readonly string[] = ["interrupted", "error", "cancelled"];
/** Run statuses of a turn still being answered: the chat rejoins its stream. */
export const LIVE_STATUSES: readonly string[] = ["pending", "running"];

/** A run refused by an input guardrail: no Retry (it would be refused again); the text is edited. */
export const BLOCKED_STATUS = "blocked";

export type GuardrailNotice = { rule: string | null; reason: string };

// The backend words a refusal "Blocked by the <rule> guardrail: <reason>" (services/runs/worker.py).
const BLOCKED_MESSAGE = /^Blocked by the (\S+) guardrail:\s*([\s\S]*)$/;

/** The rule and reason of a guardrail refusal, from the run's error message (pure; unit-tested). */
export function guardrailNotice(message?: string | null): GuardrailNotice {
  const match = message ? BLOCKED_MESSAGE.exec(message.trim()) : null;
  if (!match) return { rule: null, reason: message?.trim() ?? "" };
  return { rule: match[1] ?? null, reason: match[2]?.trim() ?? "" };
}

/** What the user reads on a turn that ended without an answer. */
export function failedTurnMessage(status: string, detail?: string | null): string {
  if (status === "interrupted") return "Interrupted — the server stopped during this answer.";
  if (status === "cancelled") return "Stopped.";
  return detail || "This answer failed.";
}

/** The last event of an execution: after it, the stream has nothing more to say. */
export function isTerminalEvent(event: AgentStreamEvent): boolean {
  return event.type === "run_completed" || event.type === "error";
}

let counter = 0;
export function localId(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

export function newAssistantTurn(prompt: string): AssistantTurn {
  return { kind: "assistant", id: localId("a"), prompt, status: "streaming", text: "", toolCalls: [] };
}

function mergeToolCalls(current: ToolCallView[], records: ToolCallRecord[]): ToolCallView[] {
  const byId = new Map(current.map((call) => [call.id, call]));
  for (const record of records) {
    byId.set(record.id, {
      ...byId.get(record.id),
      ...record,
      args: record.args ?? byId.get(record.id)?.args ?? {},
    });
  }
  return [...byId.values()];
}

/** Fold one stream event into the answer it belongs to (pure; unit-tested). */
export function applyStreamEvent(turn: AssistantTurn, event: AgentStreamEvent): AssistantTurn {
  switch (event.type) {
    case "run_started":
      return { ...turn, runId: event.run_id, threadId: event.thread_id, traceUrl: event.trace_url };
    case "plan":
      return { ...turn, plan: { text: event.text, steps: event.steps } };
    case "token":
      return { ...turn, text: turn.text + event.text };
    case "tool_call":
      return {
        ...turn,
        toolCalls: mergeToolCalls(turn.toolCalls, [{ id: event.id, name: event.name, args: event.args }]),
      };
    case "tool_result":
      return {
        ...turn,
        toolCalls: mergeToolCalls(turn.toolCalls, [
          {
            id: event.id,
            name: event.name,
            args: turn.toolCalls.find((c) => c.id === event.id)?.args ?? {},
            output: event.output,
            ok: event.ok,
            status: event.status,
          },
        ]),
      };
    case "approval_required":
      return {
        ...turn,
        status: "awaiting_approval",
        runId: event.run_id,
        approval: {
          approvalId: event.approval_id,
          runId: event.run_id,
          tool: event.tool,
          args: event.args,
          reason: event.reason,
          dataFlow: event.data_flow,
          state: "pending",
        },
      };
    case "run_completed":
      return {
        ...turn,
        approval: event.pending_approval
          ? {
              approvalId: event.pending_approval.approval_id,
              runId: event.run_id,
              tool: event.pending_approval.tool,
              args: event.pending_approval.args,
              reason: event.pending_approval.reason,
              dataFlow: event.pending_approval.data_flow,
              state:
                turn.approval?.approvalId === event.pending_approval.approval_id
                  ? turn.approval.state
                  : "pending",
            }
          : turn.approval,
        status: event.status,
        runId: event.run_id,
        threadId: event.thread_id,
        // A finished run's response wins: the output guardrails may have redacted what streamed.
        // Otherwise (cancelled, failed) the streamed text is what the user watched.
        text: (event.status === "success" && event.response) || turn.text || event.response || "",
        plan: turn.plan ?? (event.plan ? { text: event.plan, steps: [] } : undefined),
        toolCalls: mergeToolCalls(turn.toolCalls, event.tool_calls ?? []),
        latencyMs: event.latency_ms,
        tokens: {
          prompt: event.prompt_tokens ?? 0,
          completion: event.completion_tokens ?? 0,
          total: event.total_tokens ?? 0,
        },
        model: event.model,
        traceUrl: event.trace_url ?? turn.traceUrl,
        error: event.error ? { code: event.status, message: event.error } : turn.error,
      };
    case "error":
      return {
        ...turn,
        status:
          event.code === "cancelled" || event.code === "interrupted"
            ? event.code
            : event.code === "guardrail_blocked"
              ? BLOCKED_STATUS
              : "error",
        runId: event.run_id ?? turn.runId,
        error: {
          code: event.code,
          message: event.code === "interrupted" ? failedTurnMessage(event.code) : event.message,
        },
      };
    default:
      // A newer backend may send event types this build doesn't know: ignore them.
      return turn;
  }
}

function runSummary(turn: AssistantTurn, run: AgentRunPublic, pendingApprovals: ApprovalPublic[]) {
  turn.runId = run.id;
  turn.status = run.status;
  turn.latencyMs = run.latency_ms;
  turn.tokens = {
    prompt: run.prompt_tokens ?? 0,
    completion: run.completion_tokens ?? 0,
    total: run.total_tokens ?? 0,
  };
  turn.model = run.model;
  turn.traceUrl = run.trace_url;
  if (run.plan) turn.plan = { text: run.plan, steps: [] };
  if (run.error) turn.error = { code: run.status, message: run.error };
  const pending = pendingApprovals.find((a) => a.run_id === run.id && a.status === "pending");
  if (pending) {
    turn.approval = {
      approvalId: pending.id,
      runId: run.id,
      tool: pending.tool,
      args: pending.args,
      reason: pending.reason,
      state: "pending",
    };
  }
}

/**
 * Rebuild the conversation from a thread's messages (checkpoint, plus the user messages of turns
 * that never completed), enriched by its runs. A user message whose run ended without completing
 * (`run_status` interrupted/error/cancelled) gets an answer with that status, so the UI offers a Retry.
 */
export function threadToTurns(
  messages: ThreadMessage[],
  runs: AgentRunPublic[] = [],
  pendingApprovals: ApprovalPublic[] = [],
): Turn[] {
  const chronological = [...runs].sort((a, b) => a.created_at.localeCompare(b.created_at));
  const byId = new Map(runs.map((run) => [run.id, run]));
  const turns: Turn[] = [];
  let answer: AssistantTurn | null = null;
  let question: UserTurn | null = null;
  let runIndex = 0;

  const attachRun = (turn: AssistantTurn) => {
    const tagged = question?.runId ? byId.get(question.runId) : undefined;
    if (tagged) {
      runSummary(turn, tagged, pendingApprovals);
    } else if (!question?.runId) {
      // Untagged history: runs and user messages pair up in order; skip runs whose input differs.
      while (runIndex < chronological.length) {
        const run = chronological[runIndex++];
        if (run && run.input === turn.prompt) {
          runSummary(turn, run, pendingApprovals);
          break;
        }
      }
    }
    // The message's own status is the freshest word on a turn that did not complete.
    const status = question?.runStatus;
    if (status && FAILED_STATUSES.includes(status)) {
      turn.status = status;
      turn.runId ??= question?.runId ?? undefined;
      turn.error = {
        code: status,
        message: failedTurnMessage(status, tagged?.error ?? turn.error?.message),
      };
    }
  };

  const newAnswer = (prompt: string): AssistantTurn => {
    const turn: AssistantTurn = { ...newAssistantTurn(prompt), status: "success" };
    attachRun(turn);
    return turn;
  };

  // A turn paused before any answer (awaiting approval) or ended without one still gets its turn.
  const closeQuestion = (last: boolean) => {
    if (!question || answer) return;
    const status = question.runStatus ?? "";
    const unanswered = FAILED_STATUSES.includes(status) || status === BLOCKED_STATUS;
    if (!unanswered && !last) return;
    const trailing = newAnswer(question.text);
    if (trailing.runId) turns.push(trailing);
  };

  for (const message of messages) {
    if (message.role === "user") {
      closeQuestion(false);
      answer = null;
      question = {
        kind: "user",
        id: localId("u"),
        text: message.content,
        runId: message.run_id,
        runStatus: message.run_status,
      };
      turns.push(question);
      continue;
    }
    if (!answer) {
      answer = newAnswer(question?.text ?? "");
      turns.push(answer);
    }
    if (message.role === "assistant") {
      if (message.tool_calls?.length) answer.toolCalls = mergeToolCalls(answer.toolCalls, message.tool_calls);
      if (message.content)
        answer.text = answer.text ? `${answer.text}\n\n${message.content}` : message.content;
    } else if (message.role === "tool") {
      const id = message.tool_call_id ?? "";
      const call = answer.toolCalls.find((c) => c.id === id);
      answer.toolCalls = mergeToolCalls(answer.toolCalls, [
        {
          id,
          name: message.name ?? call?.name ?? "tool",
          args: call?.args ?? {},
          output: message.content,
          ok: message.tool_status ? message.tool_status === "done" : (call?.ok ?? null),
          status: message.tool_status ?? undefined,
        },
      ]);
    }
  }
  closeQuestion(true);
  return turns;
}
