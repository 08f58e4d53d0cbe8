import { useMutation } from "@tanstack/react-query";
import { usersDeleteUserMe } from "@/client";

/** DELETE /users/me. */
export function useDeleteMe() {
  return useMutation({ mutationFn: () => usersDeleteUserMe() });
}
