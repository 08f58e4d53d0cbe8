import { useMutation, useQueryClient } from "@tanstack/react-query";
import { apiKeysRevokeApiKey } from "@/client";

/** DELETE /api-keys/{id}: the key stops working at once (it stays listed as revoked). */
export function useRevokeApiKey() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => apiKeysRevokeApiKey({ path: { id } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["api-keys"] }),
  });
}
