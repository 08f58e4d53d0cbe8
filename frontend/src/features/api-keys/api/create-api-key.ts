import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type ApiKeyCreate, apiKeysCreateApiKey } from "@/client";

/** POST /api-keys: the answer carries the key, the only time it is ever shown. */
export function useCreateApiKey() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: ApiKeyCreate) => apiKeysCreateApiKey({ body }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["api-keys"] }),
  });
}
