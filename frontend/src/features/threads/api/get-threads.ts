import { infiniteQueryOptions, keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import { agentListThreads } from "@/client";

export const THREADS_PAGE_SIZE = 50;
const BUSY_POLL_MS = 2000;

/** GET /agent/threads: the user's conversations, most recent first, a page at a time (cursor);
 * `q` searches titles and messages. Polls while one is answering (its title may be renamed by
 * the model when it ends). */
export const threadsQueryOptions = (q = "") =>
  infiniteQueryOptions({
    queryKey: ["agent", "threads", "list", { q }],
    queryFn: ({ pageParam }) =>
      agentListThreads({
        query: { limit: THREADS_PAGE_SIZE, cursor: pageParam ?? null, q: q || null },
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
    refetchInterval: (query) =>
      query.state.data?.pages.some((page) => page.data.some((thread) => thread.status === "busy"))
        ? BUSY_POLL_MS
        : false,
  });

/** The conversations loaded so far (`threads`), and `fetchNextPage` for more. */
export function useThreads(q = "") {
  const query = useInfiniteQuery(threadsQueryOptions(q));
  return { ...query, threads: query.data?.pages.flatMap((page) => page.data) ?? [] };
}
