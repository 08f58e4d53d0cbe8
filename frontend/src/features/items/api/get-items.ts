import { keepPreviousData, queryOptions, useQuery } from "@tanstack/react-query";
import { itemsReadItems } from "@/client";

export const ITEMS_PAGE_SIZE = 10;

/** GET /items/, one page (your own items; all items for a superuser). */
export const itemsQueryOptions = (page: number) =>
  queryOptions({
    queryKey: ["items", "list", { page }],
    queryFn: () => itemsReadItems({ query: { skip: (page - 1) * ITEMS_PAGE_SIZE, limit: ITEMS_PAGE_SIZE } }),
    placeholderData: keepPreviousData,
  });

export function useItems(page: number) {
  return useQuery(itemsQueryOptions(page));
}
