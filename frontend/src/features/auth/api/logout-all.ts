import { useMutation } from "@tanstack/react-query";
import { loginLogoutAll } from "@/client";

/** POST /logout/all: every session of this account ends, this one included. */
export function useLogoutAll() {
  return useMutation({ mutationFn: () => loginLogoutAll() });
}
