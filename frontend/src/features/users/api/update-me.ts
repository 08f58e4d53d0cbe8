import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type UserUpdateMe, usersUpdateUserMe } from "@/client";
import { currentUserQueryOptions } from "@/lib/auth";

/** PATCH /users/me. */
export function useUpdateMe() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: UserUpdateMe) => usersUpdateUserMe({ body }),
    onSuccess: (user) => queryClient.setQueryData(currentUserQueryOptions().queryKey, user),
  });
}
