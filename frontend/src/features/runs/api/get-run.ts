import { queryOptions, useQuery } from "@tanstack/react-query";
import { agentReadRun } from "@/client";

/** GET /agent/runs/{id}: a run with tool calls and evaluations. */
export const runQueryOptions = (runId: string) =>
  queryOptions({
    queryKey: ["agent", "runs", "detail", runId],
    queryFn: () => agentReadRun({ path: { run_id: runId } }),
  });

export function useRun(runId: string) {
  return useQuery(runQueryOptions(runId));
}
