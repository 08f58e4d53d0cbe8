import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type AgentFeedbackCreate, feedbackSubmitFeedback } from "@/client";
import { feedbackQueryOptions } from "./get-feedback";

/** POST /agent/runs/{id}/feedback: thumbs up (1) or down (-1), optional comment; resending updates it. */
export function useSubmitFeedback(runId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: AgentFeedbackCreate) => feedbackSubmitFeedback({ path: { run_id: runId }, body }),
    onSuccess: (feedback) => {
      queryClient.setQueryData(feedbackQueryOptions(runId).queryKey, feedback);
      void queryClient.invalidateQueries({ queryKey: ["agent", "runs", "detail", runId] });
    },
  });
}
