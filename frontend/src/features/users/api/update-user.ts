import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type UserUpdate, usersUpdateUser } from "@/client";

/** PATCH /users/{id} (superuser). */
export function useUpdateUser() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id: string; body: UserUpdate }) =>
      usersUpdateUser({ path: { user_id: id }, body }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["users"] }),
  });
}
