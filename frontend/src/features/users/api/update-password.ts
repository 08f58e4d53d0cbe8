import { useMutation } from "@tanstack/react-query";
import { type UpdatePassword, usersUpdatePasswordMe } from "@/client";

/** PATCH /users/me/password. */
export function useUpdatePassword() {
  return useMutation({ mutationFn: (body: UpdatePassword) => usersUpdatePasswordMe({ body }) });
}
