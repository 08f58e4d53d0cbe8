import { useMutation, useQueryClient } from "@tanstack/react-query";
import { agentDeleteThread } from "@/client";

/** DELETE /agent/threads/{id} (its runs stay in the history). */
export function useDeleteThread() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (threadId: string) => agentDeleteThread({ path: { thread_id: threadId } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["agent"] }),
  });
}
