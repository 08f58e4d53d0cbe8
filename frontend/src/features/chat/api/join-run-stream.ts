import { type StreamAgentRunOptions, streamAgentRun } from "./stream-agent-run";

/** GET /agent/runs/{id}/stream: join a running or finished run. */
export function joinRunStreamPath(runId: string): string {
  return `/api/v1/agent/runs/${encodeURIComponent(runId)}/stream`;
}

export type JoinRunStreamOptions = Omit<StreamAgentRunOptions, "body" | "path" | "headers"> & {
  runId: string;
  /** The last event already shown: only later events come. Without it, the latest execution replays. */
  lastEventId?: string;
};

/** Rejoin a run's stream (after a reload or a dropped connection), from `lastEventId` on. */
export function joinRunStream({ runId, lastEventId, ...options }: JoinRunStreamOptions) {
  return streamAgentRun({
    ...options,
    path: joinRunStreamPath(runId),
    headers: lastEventId ? { "Last-Event-ID": lastEventId } : undefined,
  });
}
