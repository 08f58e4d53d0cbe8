import { queryOptions, useQuery } from "@tanstack/react-query";
import { agentListThreads } from "@/client";

/** GET /agent/threads: the user's conversations, most recent first. */
export const threadsQueryOptions = () =>
  queryOptions({
    queryKey: ["agent", "threads", "list"],
    queryFn: () => agentListThreads({ query: { limit: 100 } }),
  });

export function useThreads() {
  return useQuery(threadsQueryOptions());
}
