import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type UserCreate, usersCreateUser } from "@/client";

/** POST /users/ (superuser). */
export function useCreateUser() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: UserCreate) => usersCreateUser({ body }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["users", "list"] }),
  });
}
