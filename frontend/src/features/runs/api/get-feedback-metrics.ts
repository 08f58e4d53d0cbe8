import { queryOptions, useQuery } from "@tanstack/react-query";
import { feedbackListLabelMetrics } from "@/client";

/** GET /agent/feedback/metrics: the metric names a feedback's "what was wrong?" labels may use. */
export const feedbackMetricsQueryOptions = () =>
  queryOptions({
    queryKey: ["agent", "feedback", "metrics"],
    queryFn: async () => (await feedbackListLabelMetrics()).data,
    staleTime: Number.POSITIVE_INFINITY, // the metric files change with a deploy, not a session
  });

export function useFeedbackMetrics() {
  return useQuery(feedbackMetricsQueryOptions());
}
