import { queryOptions, useQuery } from "@tanstack/react-query";
import { agentReadRun } from "@/client";

const ACTIVE_STATUSES = ["pending", "running"];
const ACTIVE_POLL_MS = 2000;

/** GET /agent/runs/{id}: a run with tool calls and evaluations. */
export const runQueryOptions = (runId: string) =>
  queryOptions({
    queryKey: ["agent", "runs", "detail", runId],
    queryFn: () => agentReadRun({ path: { run_id: runId } }),
    // While the run goes on, its detail follows it (tool calls, approvals, the answer).
    refetchInterval: (query) =>
      ACTIVE_STATUSES.includes(query.state.data?.status ?? "") ? ACTIVE_POLL_MS : false,
  });

export function useRun(runId: string) {
  return useQuery(runQueryOptions(runId));
}
