import { useMutation, useQueryClient } from "@tanstack/react-query";
import { itemsDeleteItem } from "@/client";

/** DELETE /items/{id}. */
export function useDeleteItem() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => itemsDeleteItem({ path: { id } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["items"] }),
  });
}
