import { useMutation, useQueryClient } from "@tanstack/react-query";
import { usersDeleteUser } from "@/client";

/** DELETE /users/{id} (superuser). */
export function useDeleteUser() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => usersDeleteUser({ path: { user_id: id } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["users", "list"] }),
  });
}
