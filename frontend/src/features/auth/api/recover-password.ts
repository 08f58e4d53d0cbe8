import { useMutation } from "@tanstack/react-query";
import { loginRecoverPassword } from "@/client";

/** POST /password-recovery/{email}: the answer is the same whether or not the account exists. */
export function useRecoverPassword() {
  return useMutation({ mutationFn: (email: string) => loginRecoverPassword({ path: { email } }) });
}
