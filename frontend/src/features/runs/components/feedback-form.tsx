import { ThumbsDownIcon, ThumbsUpIcon } from "lucide-react";
import { useEffect, useId, useState } from "react";
import type { AgentFeedbackCreate, AgentFeedbackPublic, FeedbackMetricPublic } from "@/client";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";
import { cn } from "@/lib/utils";

const MAX_COMMENT = 2000;

type Labels = NonNullable<AgentFeedbackCreate["labels"]>;

export type FeedbackFormProps = {
  /** The feedback as saved (null: none yet). */
  saved: AgentFeedbackPublic | null;
  /** Metrics a thumbs-down can name as "what was wrong" (none: the question is not shown). */
  metrics: FeedbackMetricPublic[];
  pending: boolean;
  onSave: (body: AgentFeedbackCreate) => void;
};

function failedIn(labels: AgentFeedbackPublic["labels"]): string[] {
  return Object.entries(labels ?? {})
    .filter(([, label]) => label === "fail")
    .map(([name]) => name);
}

/**
 * Thumbs up/down, an optional comment and, under a thumbs-down, an optional "what was wrong?"
 * with one checkbox per metric: each ticked metric is sent as a `fail` label for that metric.
 */
export function FeedbackForm({ saved, metrics, pending, onSave }: FeedbackFormProps) {
  const [score, setScore] = useState<1 | -1 | null>(null);
  const [comment, setComment] = useState("");
  const [failed, setFailed] = useState<string[]>([]);
  const commentId = useId();
  const wrongId = useId();

  useEffect(() => {
    if (saved) {
      setScore(saved.score === -1 ? -1 : 1);
      setComment(saved.comment ?? "");
      setFailed(failedIn(saved.labels));
    }
  }, [saved]);

  const text = () => comment.trim() || null;
  const rate = (value: 1 | -1) => {
    setScore(value);
    if (value === 1 && failed.length > 0) {
      setFailed([]);
      onSave({ score: 1, comment: text(), labels: {} }); // a thumbs-up takes back "what was wrong"
    } else {
      onSave({ score: value, comment: text() });
    }
  };
  const toggle = (name: string, checked: boolean) => {
    const next = checked ? [...failed.filter((n) => n !== name), name] : failed.filter((n) => n !== name);
    setFailed(next);
    const labels: Labels = Object.fromEntries(next.map((n) => [n, "fail" as const]));
    onSave({ score: -1, comment: text(), labels });
  };

  return (
    <div className="grid gap-3">
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
          disabled={pending}
          onClick={() => rate(1)}
          className={cn(score === 1 && "border-success bg-success/10 text-success")}
        >
          <ThumbsUpIcon /> Helpful
        </Button>
        <Button
          variant="outline"
          aria-pressed={score === -1}
          disabled={pending}
          onClick={() => rate(-1)}
          className={cn(score === -1 && "border-destructive bg-destructive/10 text-destructive")}
        >
          <ThumbsDownIcon /> Not helpful
        </Button>
        {saved ? (
          <span className="text-xs text-muted-foreground" data-testid="feedback-saved">
            Saved {new Date(saved.updated_at).toLocaleString()}
          </span>
        ) : null}
      </fieldset>
      {score === -1 && metrics.length > 0 ? (
        <fieldset className="grid gap-2" aria-describedby={wrongId}>
          <legend className="text-sm font-medium">What was wrong? (optional)</legend>
          <p id={wrongId} className="text-xs text-muted-foreground">
            Tick what failed; each becomes your label for that metric when the judge is calibrated.
          </p>
          <div className="flex flex-wrap gap-x-4 gap-y-2">
            {metrics.map((metric) => {
              const id = `${wrongId}-${metric.name}`;
              return (
                <div key={metric.name} className="flex items-center gap-2" title={metric.description}>
                  <Checkbox
                    id={id}
                    checked={failed.includes(metric.name)}
                    disabled={pending}
                    onCheckedChange={(checked) => toggle(metric.name, checked === true)}
                  />
                  <Label htmlFor={id} className="font-normal">
                    {metric.name}
                  </Label>
                </div>
              );
            })}
          </div>
        </fieldset>
      ) : null}
    </div>
  );
}
