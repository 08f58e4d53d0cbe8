import { useMutation } from "@tanstack/react-query";
import { type UserRegister, usersRegisterUser } from "@/client";

/** POST /users/signup. */
export function useSignup() {
  return useMutation({ mutationFn: (body: UserRegister) => usersRegisterUser({ body }) });
}
