import { useMutation } from "@tanstack/react-query";
import { loginResetPassword, type NewPassword } from "@/client";

/** POST /reset-password/ with the token from the recovery email. */
export function useResetPassword() {
  return useMutation({ mutationFn: (body: NewPassword) => loginResetPassword({ body }) });
}
