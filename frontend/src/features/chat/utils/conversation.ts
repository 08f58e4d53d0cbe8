import type { AgentRunPublic, ApprovalPublic, DataFlow, PlanStep, ToolCallStatus } from "@/client";

/** The parts of a LangChain message (as `useStream` gives them) that the chat shows. */
export type StateMessage = {
  type: string;
  id?: string;
  content: unknown;
  tool_calls?: { id?: string; name: string; args: Record<string, unknown> }[];
  tool_call_id?: string;
  name?: string;
  status?: string;
};

export type ToolCallView = {
  id: string;
  name: string;
  args: Record<string, unknown>;
  output?: string | null;
  ok?: boolean | null;
  /** done | failed | rejected once its result is in (the backend's `tool_call_status` values). */
  status?: ToolCallStatus | null;
};

/** An approval as the chat shows it: the stored record (audit) and whether its buttons are live. */
export type ApprovalView = {
  approvalId: string;
  runId: string;
  tool: string;
  args: Record<string, unknown>;
  editedArgs?: Record<string, unknown> | null;
  reason: string;
  dataFlow?: DataFlow | null;
  /** pending | approved | edited | rejected | superseded | expired, or `deciding` while sent. */
  status: string;
  comment?: string | null;
  decidedBy?: string | null;
  decidedAt?: string | null;
  /** The run is paused on this approval right now: Approve/Reject/Edit can be used. */
  live: boolean;
  error?: string;
};

export type UserTurn = {
  kind: "user";
  id: string;
  text: string;
  runId?: string;
  /** Index of the message in the stream's messages (for branch metadata); absent for failed runs. */
  messageIndex?: number;
  /** The run's status when its turn did not complete (interrupted, error, cancelled, blocked). */
  runStatus?: string;
};

export type AssistantTurn = {
  kind: "assistant";
  id: string;
  /** The user message this answers (sent again by Retry). */
  prompt: string;
  status: string;
  text: string;
  runId?: string;
  plan?: { text: string; steps: PlanStep[] };
  toolCalls: ToolCallView[];
  approvals: ApprovalView[];
  run?: AgentRunPublic;
  /** How its run ended, from the stream's closing `metadata` event (before the runs list has it). */
  outcome?: RunOutcome;
  error?: string;
  /** Index of the user message it answers in the stream's messages (regenerate starts there). */
  questionIndex?: number;
};

export type Turn = UserTurn | AssistantTurn;

/** Run statuses of a turn that ended without an answer: shown with a Retry. */
export const FAILED_STATUSES: readonly string[] = ["interrupted", "error", "cancelled"];
/** A run refused by an input guardrail: no Retry (it would be refused again); the text is edited. */
export const BLOCKED_STATUS = "blocked";
/** Run statuses of a turn still being answered. */
export const LIVE_STATUSES: readonly string[] = ["pending", "running"];

const RUN_PREFIX = "run-";
/** The id prefix of a message the chat shows before the server has it (`optimisticValues`). */
export const LOCAL_PREFIX = "local-";

/** The run a user message started: the backend ids it `run-<run id>` in the checkpoint. */
export function runIdOf(message: StateMessage): string | undefined {
  return message.type === "human" && message.id?.startsWith(RUN_PREFIX)
    ? message.id.slice(RUN_PREFIX.length)
    : undefined;
}

/** A message's text (string content or text blocks). */
export function messageText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return content
      .map((part) => (typeof part === "string" ? part : ((part as { text?: unknown }).text ?? "")))
      .filter((part): part is string => typeof part === "string")
      .join("");
  return "";
}

/** Plans worth a card: one that calls a tool or has more than one step ("Answer directly" is not). */
export function planWorthShowing(plan: { text: string; steps: PlanStep[] } | undefined): boolean {
  if (!plan) return false;
  if (plan.steps.length) return plan.steps.length > 1 || plan.steps.some((step) => step.tool);
  return /\(tool: /.test(plan.text) || plan.text.trim().split("\n").length > 1;
}

/** What the user reads on a turn that ended without an answer. */
export function failedTurnMessage(status: string, detail?: string | null): string {
  if (status === "interrupted") return "Interrupted — the server stopped during this answer.";
  if (status === "cancelled") return "Stopped.";
  return detail || "This answer failed.";
}

function approvalView(approval: ApprovalPublic, live: boolean): ApprovalView {
  return {
    approvalId: approval.id,
    runId: approval.run_id,
    tool: approval.tool,
    args: approval.args,
    editedArgs: approval.edited_args,
    reason: approval.reason,
    dataFlow: approval.data_flow,
    status: approval.status,
    comment: approval.comment,
    decidedBy: approval.decided_by,
    decidedAt: approval.decided_at,
    live,
  };
}

/** Whether a run was degraded and which model answered: the Agent Protocol stream's closing
 * `metadata` event, as the run record has it. */
export type RunOutcome = Pick<AgentRunPublic, "mode" | "degraded_reason" | "model">;

export type ConversationInput = {
  messages: StateMessage[];
  /** The thread's runs (any order), for status, stats and turns that never reached the state. */
  runs?: AgentRunPublic[];
  /** The thread's approvals (pending and decided). */
  approvals?: ApprovalPublic[];
  /** A run is streaming into the last turn. */
  loading?: boolean;
  /** The run streaming now (known from its `metadata` event before its message has an id). */
  liveRunId?: string;
  /** The state is paused on an interrupt (the newest pending approval is decidable). */
  interrupted?: boolean;
  /** The plan of the state's latest turn (values.plan / plan_steps, or the live `custom` event). */
  latestPlan?: { text: string; steps: PlanStep[] };
  /** What this tab saw stream in, by run: shown for a run that ended before its checkpoint. */
  seen?: Record<string, SeenAnswer>;
  /** How runs streamed here ended, by run (their closing `metadata` events). */
  outcomes?: Record<string, RunOutcome>;
};

/** The part of an answer that streamed in (kept for a turn stopped or killed before its checkpoint). */
export type SeenAnswer = { text: string; toolCalls: ToolCallView[] };

/** A turn whose run never reached the thread's state (killed, failed, stopped or blocked). */
function unsettledTurns(run: AgentRunPublic, seen?: SeenAnswer): Turn[] {
  const status = run.status;
  const user: UserTurn = {
    kind: "user",
    id: `u-${run.id}`,
    text: run.input,
    runId: run.id,
    runStatus: status,
  };
  const answer: AssistantTurn = {
    kind: "assistant",
    id: `a-${run.id}`,
    prompt: run.input,
    status,
    text: run.response || seen?.text || "",
    runId: run.id,
    toolCalls: seen?.toolCalls ?? [],
    approvals: [],
    run,
    error: status === BLOCKED_STATUS ? (run.error ?? undefined) : failedTurnMessage(status, run.error),
  };
  return [user, answer];
}

/**
 * The conversation as turns (pure; unit-tested): the messages of the shown branch grouped into
 * question and answer, each enriched by its run (status, stats, plan) and approvals, with the
 * turns whose runs never reached the state (a killed server, a refusal) at their place in time.
 * A failed turn that was retried (the next run asked the same) is not shown twice.
 */
export function buildConversation({
  messages,
  runs = [],
  approvals = [],
  loading = false,
  liveRunId,
  interrupted = false,
  latestPlan,
  seen = {},
  outcomes = {},
}: ConversationInput): Turn[] {
  const byId = new Map(runs.map((run) => [run.id, run]));
  const chronological = [...runs].sort((a, b) => a.created_at.localeCompare(b.created_at));
  const inState = new Set(messages.map(runIdOf).filter((id): id is string => Boolean(id)));
  const lastHuman = messages.findLastIndex((m) => m.type === "human");

  const turns: Turn[] = [];
  let answer: AssistantTurn | null = null;
  let skipping = false;
  for (const [index, message] of messages.entries()) {
    if (message.type === "human") {
      // Shown optimistically while sent; once nothing streams, a message the server never stored
      // (the request failed) is not part of the conversation: it went back into the box.
      skipping = !loading && Boolean(message.id?.startsWith(LOCAL_PREFIX));
      if (skipping) continue;
      const runId = runIdOf(message) ?? (index === lastHuman ? liveRunId : undefined);
      const run = runId ? byId.get(runId) : undefined;
      const text = messageText(message.content);
      const runStatus =
        run && run.status !== "success" && !LIVE_STATUSES.includes(run.status) ? run.status : undefined;
      turns.push({
        kind: "user",
        id: message.id ?? `u-${index}`,
        text,
        runId,
        runStatus,
        messageIndex: index,
      });
      const last = index === lastHuman;
      const pendingHere = approvals.filter((a) => a.run_id === runId);
      answer = {
        kind: "assistant",
        id: `a-${message.id ?? index}`,
        prompt: text,
        status:
          last && loading
            ? "streaming"
            : last && interrupted
              ? "awaiting_approval"
              : (run?.status ?? "success"),
        text: "",
        runId,
        toolCalls: [],
        approvals: [...pendingHere]
          .sort((a, b) => a.created_at.localeCompare(b.created_at))
          .map((a) => approvalView(a, last && interrupted && !loading && a.status === "pending")),
        run,
        outcome: runId ? outcomes[runId] : undefined,
        plan: last && latestPlan ? latestPlan : run?.plan ? { text: run.plan, steps: [] } : undefined,
        questionIndex: index,
      };
      if (answer.status === "awaiting_approval" && !(last && interrupted))
        answer.status = run?.status ?? "success";
      if (run?.error && answer.status !== "success")
        answer.error = failedTurnMessage(answer.status, run.error);
      turns.push(answer);
      continue;
    }
    if (!answer || skipping) continue; // before any question (none in this agent), or unsent
    if (message.type === "ai") {
      for (const call of message.tool_calls ?? []) {
        const id = call.id ?? `${answer.toolCalls.length}`;
        if (!answer.toolCalls.some((c) => c.id === id))
          answer.toolCalls.push({ id, name: call.name, args: call.args });
      }
      const text = messageText(message.content);
      if (text) answer.text = answer.text ? `${answer.text}\n\n${text}` : text;
    } else if (message.type === "tool") {
      const id = message.tool_call_id ?? "";
      const existing = answer.toolCalls.find((c) => c.id === id);
      const ok = message.status !== "error";
      const name = existing?.name ?? message.name ?? "tool";
      // A failed call whose approval the user rejected is "rejected", as the backend's
      // tool_call_status says for the same call in run detail and reloaded threads.
      const rejected = !ok && answer.approvals.some((a) => a.tool === name && a.status === "rejected");
      const result = {
        output: messageText(message.content),
        ok,
        status: ok ? ("done" as const) : rejected ? ("rejected" as const) : ("failed" as const),
      };
      if (existing) Object.assign(existing, result);
      else answer.toolCalls.push({ id, name: message.name ?? "tool", args: {}, ...result });
    }
  }

  // Runs that never reached the state, placed before the first turn that came after them.
  const unsettled = chronological.filter(
    (run, i) =>
      !inState.has(run.id) &&
      run.id !== liveRunId &&
      (FAILED_STATUSES.includes(run.status) || run.status === BLOCKED_STATUS) &&
      // Retried: the next run asked the same thing; the retry stands for both.
      !(FAILED_STATUSES.includes(run.status) && chronological[i + 1]?.input === run.input),
  );
  if (!unsettled.length) return turns;
  const merged: Turn[] = [];
  let next = 0;
  for (const turn of turns) {
    if (turn.kind !== "user") {
      merged.push(turn);
      continue;
    }
    // The newest question may be too new for the runs list: everything unsettled came before it.
    const newest = turn.messageIndex === lastHuman ? "\uffff" : undefined;
    const created = (turn.runId ? byId.get(turn.runId)?.created_at : undefined) ?? newest;
    while (created && next < unsettled.length && (unsettled[next]?.created_at ?? "") < created) {
      const run = unsettled[next++] as AgentRunPublic;
      merged.push(...unsettledTurns(run, seen[run.id]));
    }
    merged.push(turn);
  }
  for (const run of unsettled.slice(next)) merged.push(...unsettledTurns(run, seen[run.id]));
  return merged;
}
