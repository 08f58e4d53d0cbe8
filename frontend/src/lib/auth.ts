import { queryOptions, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import { usersReadUserMe } from "@/client";
import { clearToken } from "./auth-token";

/** The logged-in user (GET /users/me); shared by the layout, settings and guards. */
export const currentUserQueryOptions = () =>
  queryOptions({ queryKey: ["users", "me"], queryFn: () => usersReadUserMe(), staleTime: 5 * 60_000 });

export function useCurrentUser() {
  return useQuery(currentUserQueryOptions());
}

/** Forget the token and every cached answer. */
export function useLogout() {
  const queryClient = useQueryClient();
  return useCallback(() => {
    clearToken();
    queryClient.clear();
  }, [queryClient]);
}
