import { queryOptions, useQuery } from "@tanstack/react-query";
import { agentAgentConfig } from "@/client";

/** GET /agent/config: input limit, model, tracing. */
export const agentConfigQueryOptions = () =>
  queryOptions({ queryKey: ["agent", "config"], queryFn: () => agentAgentConfig(), staleTime: 10 * 60_000 });

export function useAgentConfig() {
  return useQuery(agentConfigQueryOptions());
}
