import { keepPreviousData, queryOptions, useQuery } from "@tanstack/react-query";
import { usersReadUsers } from "@/client";

export const USERS_PAGE_SIZE = 10;

/** GET /users/ (superuser), one page. */
export const usersQueryOptions = (page: number) =>
  queryOptions({
    queryKey: ["users", "list", { page }],
    queryFn: () => usersReadUsers({ query: { skip: (page - 1) * USERS_PAGE_SIZE, limit: USERS_PAGE_SIZE } }),
    placeholderData: keepPreviousData,
  });

export function useUsers(page: number) {
  return useQuery(usersQueryOptions(page));
}
