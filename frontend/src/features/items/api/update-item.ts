import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type ItemUpdate, itemsUpdateItem } from "@/client";

/** PUT /items/{id}. */
export function useUpdateItem() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id: string; body: ItemUpdate }) => itemsUpdateItem({ path: { id }, body }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["items"] }),
  });
}
