import { keepPreviousData, queryOptions, useQuery } from "@tanstack/react-query";
import { apiKeysReadApiKeys } from "@/client";

export const API_KEYS_PAGE_SIZE = 10;

/** GET /api-keys, one page (your keys, revoked and expired ones too, newest first). */
export const apiKeysQueryOptions = (page: number) =>
  queryOptions({
    queryKey: ["api-keys", "list", { page }],
    queryFn: () =>
      apiKeysReadApiKeys({ query: { skip: (page - 1) * API_KEYS_PAGE_SIZE, limit: API_KEYS_PAGE_SIZE } }),
    placeholderData: keepPreviousData,
  });

export function useApiKeys(page: number) {
  return useQuery(apiKeysQueryOptions(page));
}
