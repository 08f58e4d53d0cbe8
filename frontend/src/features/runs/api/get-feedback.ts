import { queryOptions, useQuery } from "@tanstack/react-query";
import { feedbackReadFeedback } from "@/client";

/** GET /agent/runs/{id}/feedback: your feedback on a run, or null. */
export const feedbackQueryOptions = (runId: string) =>
  queryOptions({
    queryKey: ["agent", "runs", "feedback", runId],
    queryFn: async () => (await feedbackReadFeedback({ path: { run_id: runId } })) ?? null,
  });

export function useFeedback(runId: string) {
  return useQuery(feedbackQueryOptions(runId));
}
