import { keepPreviousData, queryOptions, useQuery, useQueryClient } from "@tanstack/react-query";
import { agentListRuns, type RunStatus } from "@/client";

export const RUNS_PAGE_SIZE = 20;

export type RunFilters = { page: number; status?: RunStatus; thread?: string };

/**
 * GET /agent/runs: one page of run history, newest first, filtered on the server. With the
 * previous page's `next_cursor` the server reads from there (fast at any depth); a page opened
 * directly (a link to page 40) falls back to `skip`.
 */
export const runsQueryOptions = ({ page, status, thread }: RunFilters, cursor?: string) =>
  queryOptions({
    queryKey: ["agent", "runs", "list", { page, status, thread }],
    queryFn: () =>
      agentListRuns({
        query: {
          ...(cursor ? { cursor } : { skip: (page - 1) * RUNS_PAGE_SIZE }),
          limit: RUNS_PAGE_SIZE,
          status: status ?? null,
          thread_id: thread ?? null,
        },
      }),
    placeholderData: keepPreviousData,
  });

export function useRuns(filters: RunFilters) {
  const queryClient = useQueryClient();
  const previous =
    filters.page > 1
      ? queryClient.getQueryData(runsQueryOptions({ ...filters, page: filters.page - 1 }).queryKey)
      : undefined;
  return useQuery(runsQueryOptions(filters, previous?.next_cursor ?? undefined));
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
