import type { AssistantTurn } from "./turns";

/**
 * The run a thread is streaming, remembered in sessionStorage as its events arrive, so a reload
 * rejoins it with `Last-Event-ID` and shows the answer as it stood (then only later events).
 */
export type ActiveRun = {
  threadId: string;
  runId: string;
  /** The id of the last event folded into `answer`. */
  lastEventId: string;
  /** The answer as rendered up to `lastEventId`. */
  answer: AssistantTurn;
};

const PREFIX = "agent-active-run:";

function storage(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null; // storage disabled (e.g. blocked cookies)
  }
}

function isActiveRun(value: unknown): value is ActiveRun {
  if (typeof value !== "object" || value === null) return false;
  const run = value as Partial<ActiveRun>;
  return (
    typeof run.threadId === "string" &&
    typeof run.runId === "string" &&
    typeof run.lastEventId === "string" &&
    run.answer?.kind === "assistant"
  );
}

export function rememberRun(run: ActiveRun): void {
  try {
    storage()?.setItem(PREFIX + run.threadId, JSON.stringify(run));
  } catch {
    // Full or unavailable: a reload then replays the run from its start instead.
  }
}

export function recallRun(threadId: string): ActiveRun | null {
  try {
    const raw = storage()?.getItem(PREFIX + threadId);
    const value: unknown = raw ? JSON.parse(raw) : null;
    return isActiveRun(value) && value.threadId === threadId ? value : null;
  } catch {
    return null;
  }
}

export function forgetRun(threadId: string): void {
  try {
    storage()?.removeItem(PREFIX + threadId);
  } catch {
    // nothing to forget
  }
}
