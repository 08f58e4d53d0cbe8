import { keepPreviousData, queryOptions, useQuery } from "@tanstack/react-query";
import { agentListRuns, type RunStatus } from "@/client";

export const RUNS_PAGE_SIZE = 20;

export type RunFilters = { page: number; status?: RunStatus; thread?: string };

/** GET /agent/runs: one page of run history, newest first, filtered on the server. */
export const runsQueryOptions = ({ page, status, thread }: RunFilters) =>
  queryOptions({
    queryKey: ["agent", "runs", "list", { page, status, thread }],
    queryFn: () =>
      agentListRuns({
        query: {
          skip: (page - 1) * RUNS_PAGE_SIZE,
          limit: RUNS_PAGE_SIZE,
          status: status ?? null,
          thread_id: thread ?? null,
        },
      }),
    placeholderData: keepPreviousData,
  });

export function useRuns(filters: RunFilters) {
  return useQuery(runsQueryOptions(filters));
}

/** Every run of one conversation (the chat uses them for per-answer stats). */
export const threadRunsQueryOptions = (threadId: string) =>
  queryOptions({
    queryKey: ["agent", "runs", "thread", threadId],
    queryFn: () => agentListRuns({ query: { thread_id: threadId, limit: 200 } }),
    staleTime: 0,
  });

export function useThreadRuns(threadId: string | undefined) {
  return useQuery({ ...threadRunsQueryOptions(threadId ?? ""), enabled: Boolean(threadId) });
}
