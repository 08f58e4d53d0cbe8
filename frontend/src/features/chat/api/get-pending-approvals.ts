import { queryOptions, useQuery } from "@tanstack/react-query";
import { agentListApprovals } from "@/client";

/** GET /agent/approvals?status=pending: tool calls waiting for the current user's decision. */
export const pendingApprovalsQueryOptions = () =>
  queryOptions({
    queryKey: ["agent", "approvals", "pending"],
    queryFn: () => agentListApprovals({ query: { status: "pending", limit: 200 } }),
    refetchInterval: 30_000,
  });

export function usePendingApprovals(enabled = true) {
  return useQuery({ ...pendingApprovalsQueryOptions(), enabled });
}
