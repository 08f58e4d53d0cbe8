import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type ItemCreate, itemsCreateItem } from "@/client";

/** POST /items/. */
export function useCreateItem() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: ItemCreate) => itemsCreateItem({ body }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["items"] }),
  });
}
