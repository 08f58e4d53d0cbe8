import type { AgentRunPublic, ApprovalPublic, ThreadMessage } from "@/client";
import type { ActiveRun } from "./active-run";
import {
  type AssistantTurn,
  FAILED_STATUSES,
  LIVE_STATUSES,
  localId,
  newAssistantTurn,
  type Turn,
  threadToTurns,
} from "./turns";

/** The live turn to rejoin: its answer (as far as already shown) and where its stream resumes. */
export type Rejoin = { answer: AssistantTurn; lastEventId?: string };

/** How to show a thread: its turns, and the run of its latest turn to rejoin if still going. */
export type ThreadView = {
  turns: Turn[];
  rejoin?: Rejoin;
  /** The remembered run is over (the history has its outcome): drop it. */
  forget: boolean;
};

function liveAnswer(threadId: string, runId: string, prompt: string, remembered: ActiveRun | null): Rejoin {
  if (remembered?.runId === runId && remembered.lastEventId) {
    // Shown up to `lastEventId` before the reload: only later events are needed. A fresh id keeps
    // a stream left behind (e.g. by switching threads) from writing into this turn.
    return {
      answer: { ...remembered.answer, id: localId("a"), status: "streaming", prompt, threadId, runId },
      lastEventId: remembered.lastEventId,
    };
  }
  // Nothing shown yet: the run replays from its start (`run_started`), then the live tail.
  return { answer: { ...newAssistantTurn(prompt), threadId, runId } };
}

/**
 * Build a thread's view from its history. If its latest turn is still running (its user message
 * has run_status `pending`/`running`, or this tab remembers a run the history doesn't show yet),
 * that turn's answer is rebuilt from the run's stream instead of the partial checkpoint.
 */
export function threadView(
  threadId: string,
  messages: ThreadMessage[],
  runs: AgentRunPublic[] = [],
  pendingApprovals: ApprovalPublic[] = [],
  remembered: ActiveRun | null = null,
): ThreadView {
  const lastUser = messages.findLastIndex((m) => m.role === "user");
  const question = messages[lastUser];
  if (question?.run_id && question.run_status && LIVE_STATUSES.includes(question.run_status)) {
    const rejoin = liveAnswer(threadId, question.run_id, question.content, remembered);
    const before = threadToTurns(messages.slice(0, lastUser), runs, pendingApprovals);
    const user: Turn = {
      kind: "user",
      id: localId("u"),
      text: question.content,
      runId: question.run_id,
      runStatus: question.run_status,
    };
    return { turns: [...before, user, rejoin.answer], rejoin, forget: false };
  }
  const turns = threadToTurns(messages, runs, pendingApprovals);
  if (remembered && !messages.some((m) => m.run_id === remembered.runId)) {
    // Started from this tab but not in the history yet: keep following it.
    const rejoin = liveAnswer(threadId, remembered.runId, remembered.answer.prompt, remembered);
    const user: Turn = { kind: "user", id: localId("u"), text: remembered.answer.prompt };
    return { turns: [...turns, user, rejoin.answer], rejoin, forget: false };
  }
  if (!remembered) return { turns, forget: false };
  // A failed turn keeps what this tab saw of it (until another run of the thread replaces it).
  const failed = messages.some(
    (m) => m.run_id === remembered.runId && FAILED_STATUSES.includes(m.run_status ?? ""),
  );
  return { turns: withShownPart(turns, remembered), forget: !failed };
}

/**
 * A remembered run that ended without completing (e.g. the server was killed) may have streamed
 * part of its answer before it never reached the checkpoint: keep showing what this tab saw.
 */
function withShownPart(turns: Turn[], remembered: ActiveRun): Turn[] {
  return turns.map((turn) =>
    turn.kind === "assistant" &&
    turn.runId === remembered.runId &&
    FAILED_STATUSES.includes(turn.status) &&
    !turn.text &&
    turn.toolCalls.length === 0
      ? {
          ...turn,
          text: remembered.answer.text,
          toolCalls: remembered.answer.toolCalls,
          plan: turn.plan ?? remembered.answer.plan,
        }
      : turn,
  );
}
