import { queryOptions, useQuery } from "@tanstack/react-query";
import { agentListApprovals } from "@/client";

/** GET /agent/approvals?thread_id=: a conversation's approvals, pending and decided (the audit). */
export const threadApprovalsQueryOptions = (threadId: string) =>
  queryOptions({
    queryKey: ["agent", "approvals", "thread", threadId],
    queryFn: () => agentListApprovals({ query: { thread_id: threadId, limit: 200 } }),
    staleTime: 0,
  });

export function useThreadApprovals(threadId: string | undefined) {
  return useQuery({ ...threadApprovalsQueryOptions(threadId ?? ""), enabled: Boolean(threadId) });
}
