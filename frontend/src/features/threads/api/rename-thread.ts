import { useMutation, useQueryClient } from "@tanstack/react-query";
import { agentRenameThread } from "@/client";

/** Longest title the API accepts (ThreadUpdate). */
export const THREAD_TITLE_MAX = 120;

/** PATCH /agent/threads/{id}: rename one of the user's conversations. */
export function useRenameThread() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ threadId, title }: { threadId: string; title: string }) =>
      agentRenameThread({ path: { thread_id: threadId }, body: { title } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["agent", "threads"] }),
  });
}
