import { keepPreviousData, queryOptions, useQuery } from "@tanstack/react-query";
import { agentListThreads } from "@/client";

const BUSY_POLL_MS = 2000;

/** GET /agent/threads: the user's conversations, most recent first; `q` searches titles and
 * messages. Polls while one is answering (its title may be renamed by the model when it ends). */
export const threadsQueryOptions = (q = "") =>
  queryOptions({
    queryKey: ["agent", "threads", "list", { q }],
    queryFn: () => agentListThreads({ query: { limit: 100, q: q || null } }),
    placeholderData: keepPreviousData,
    refetchInterval: (query) =>
      query.state.data?.data.some((thread) => thread.status === "busy") ? BUSY_POLL_MS : false,
  });

export function useThreads(q = "") {
  return useQuery(threadsQueryOptions(q));
}
