import { infiniteQueryOptions, useInfiniteQuery } from "@tanstack/react-query";
import { agentListThreads } from "@/client";

export const THREADS_PAGE_SIZE = 50;

/** GET /agent/threads: the user's conversations, most recent first, a page at a time (cursor). */
export const threadsQueryOptions = () =>
  infiniteQueryOptions({
    queryKey: ["agent", "threads", "list"],
    queryFn: ({ pageParam }) =>
      agentListThreads({ query: { limit: THREADS_PAGE_SIZE, cursor: pageParam ?? null } }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });

/** The conversations loaded so far (`threads`), and `fetchNextPage` for more. */
export function useThreads() {
  const query = useInfiniteQuery(threadsQueryOptions());
  return { ...query, threads: query.data?.pages.flatMap((page) => page.data) ?? [] };
}
