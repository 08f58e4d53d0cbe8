import { toast } from "sonner";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage } from "@/lib/api-error";
import { useFeedback } from "../api/get-feedback";
import { useFeedbackMetrics } from "../api/get-feedback-metrics";
import { useSubmitFeedback } from "../api/submit-feedback";
import { FeedbackForm } from "./feedback-form";

/**
 * Thumbs up/down with an optional comment and, under a thumbs-down, "what was wrong?" per metric;
 * sent as scores to Langfuse when the run has a trace. Self-contained: give it a run id.
 */
export function RunFeedback({ runId }: { runId: string }) {
  const feedback = useFeedback(runId);
  const metrics = useFeedbackMetrics();
  const submit = useSubmitFeedback(runId);

  return (
    <Card className="gap-3 py-4">
      <CardHeader className="px-4">
        <CardTitle>
          <h2 className="text-base">Feedback</h2>
        </CardTitle>
        <CardDescription>Was this answer helpful?</CardDescription>
      </CardHeader>
      <CardContent className="px-4">
        {feedback.isPending ? (
          <Skeleton className="h-24" />
        ) : (
          <FeedbackForm
            saved={feedback.data ?? null}
            metrics={metrics.data ?? []}
            pending={submit.isPending}
            onSave={(body) =>
              submit.mutate(body, {
                onSuccess: () => toast.success("Feedback saved"),
                onError: (error) => toast.error(errorMessage(error)),
              })
            }
          />
        )}
      </CardContent>
    </Card>
  );
}
