import { queryOptions, useQuery } from "@tanstack/react-query";
import { agentReadThread } from "@/client";

/** GET /agent/threads/{id}: a conversation's messages. */
export const threadQueryOptions = (threadId: string) =>
  queryOptions({
    queryKey: ["agent", "threads", "detail", threadId],
    queryFn: () => agentReadThread({ path: { thread_id: threadId } }),
    staleTime: 0,
  });

export function useThread(threadId: string | undefined) {
  return useQuery({ ...threadQueryOptions(threadId ?? ""), enabled: Boolean(threadId) });
}
