import { queryOptions, useQuery } from "@tanstack/react-query";
import { utilsClientConfig } from "@/client";

/** Public UI settings from the API (`GET /utils/client-config/`), loaded once per session. */
export const clientConfigQueryOptions = queryOptions({
  queryKey: ["client-config"],
  queryFn: () => utilsClientConfig(),
  staleTime: Number.POSITIVE_INFINITY,
  retry: 1,
});

export function useClientConfig() {
  return useQuery(clientConfigQueryOptions);
}
