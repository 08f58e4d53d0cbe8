import { useMutation, useQueryClient } from "@tanstack/react-query";
import { loginLoginAccessToken } from "@/client";
import { setToken } from "@/lib/auth-token";

export type LoginInput = { email: string; password: string };

/** POST /login/access-token, then keep the token. */
export function useLogin() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ email, password }: LoginInput) =>
      loginLoginAccessToken({ body: { username: email, password } }),
    onSuccess: (token) => {
      queryClient.clear();
      setToken(token.access_token);
    },
  });
}
