import { ThumbsDownIcon, ThumbsUpIcon } from "lucide-react";
import { useEffect, useId, useState } from "react";
import { toast } from "sonner";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Label } from "@/components/ui/label";
import { Skeleton } from "@/components/ui/skeleton";
import { Textarea } from "@/components/ui/textarea";
import { errorMessage } from "@/lib/api-error";
import { cn } from "@/lib/utils";
import { useFeedback } from "../api/get-feedback";
import { useSubmitFeedback } from "../api/submit-feedback";

const MAX_COMMENT = 2000;

/** Thumbs up/down with an optional comment; sent as a score to Langfuse when the run has a trace. */
export function RunFeedback({ runId }: { runId: string }) {
  const feedback = useFeedback(runId);
  const submit = useSubmitFeedback(runId);
  const [score, setScore] = useState<1 | -1 | null>(null);
  const [comment, setComment] = useState("");
  const commentId = useId();

  useEffect(() => {
    if (feedback.data) {
      setScore(feedback.data.score === -1 ? -1 : 1);
      setComment(feedback.data.comment ?? "");
    }
  }, [feedback.data]);

  const save = (value: 1 | -1) => {
    setScore(value);
    submit.mutate(
      { score: value, comment: comment.trim() || null },
      {
        onSuccess: () => toast.success("Feedback saved"),
        onError: (error) => toast.error(errorMessage(error)),
      },
    );
  };

  return (
    <Card className="gap-3 py-4">
      <CardHeader className="px-4">
        <CardTitle>
          <h2 className="text-base">Feedback</h2>
        </CardTitle>
        <CardDescription>Was this answer helpful?</CardDescription>
      </CardHeader>
      <CardContent className="grid gap-3 px-4">
        {feedback.isPending ? (
          <Skeleton className="h-24" />
        ) : (
          <>
            <div className="grid gap-1.5">
              <Label htmlFor={commentId}>Comment (optional)</Label>
              <Textarea
                id={commentId}
                value={comment}
                maxLength={MAX_COMMENT}
                onChange={(event) => setComment(event.target.value)}
                placeholder="What was good or wrong about it?"
              />
            </div>
            <fieldset className="flex flex-wrap items-center gap-2">
              <legend className="sr-only">Rate this answer</legend>
              <Button
                variant="outline"
                aria-pressed={score === 1}
                disabled={submit.isPending}
                onClick={() => save(1)}
                className={cn(score === 1 && "border-success bg-success/10 text-success")}
              >
                <ThumbsUpIcon /> Helpful
              </Button>
              <Button
                variant="outline"
                aria-pressed={score === -1}
                disabled={submit.isPending}
                onClick={() => save(-1)}
                className={cn(score === -1 && "border-destructive bg-destructive/10 text-destructive")}
              >
                <ThumbsDownIcon /> Not helpful
              </Button>
              {feedback.data ? (
                <span className="text-xs text-muted-foreground" data-testid="feedback-saved">
                  Saved {new Date(feedback.data.updated_at).toLocaleString()}
                </span>
              ) : null}
            </fieldset>
          </>
        )}
      </CardContent>
    </Card>
  );
}
