import { queryOptions, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import { loginLogout, usersReadUserMe } from "@/client";
import { clearToken, getToken } from "./auth-token";

/** The logged-in user (GET /users/me); shared by the layout, settings and guards. */
export const currentUserQueryOptions = () =>
  queryOptions({ queryKey: ["users", "me"], queryFn: () => usersReadUserMe(), staleTime: 5 * 60_000 });

export function useCurrentUser() {
  return useQuery(currentUserQueryOptions());
}

/** End this device's session on the server (which clears the cookies), then forget it here. */
export function useLogout() {
  const queryClient = useQueryClient();
  return useCallback(async () => {
    if (getToken() !== null) {
      // Already ended elsewhere or unreachable: logging out locally is all that's left.
      await loginLogout().catch(() => undefined);
    }
    clearToken();
    queryClient.clear();
  }, [queryClient]);
}
