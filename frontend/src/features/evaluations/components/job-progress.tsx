import type { EvaluationJobPublic } from "@/client";
import { Badge } from "@/components/ui/badge";

const STATUS_VARIANT: Record<string, "success" | "destructive" | "secondary" | "outline"> = {
  completed: "success",
  failed: "destructive",
  interrupted: "secondary",
  queued: "outline",
  running: "outline",
};

export function JobStatusBadge({ status }: { status: string }) {
  return <Badge variant={STATUS_VARIANT[status] ?? "outline"}>{status}</Badge>;
}

/** Judgments done out of total, as a bar and numbers. */
export function JobProgress({ job }: { job: EvaluationJobPublic }) {
  const total = job.judgments_total;
  const done = job.judgments_done + job.judgments_failed + job.judgments_skipped;
  const percent =
    total > 0 ? Math.min(100, Math.round((done / total) * 100)) : job.status === "completed" ? 100 : 0;
  return (
    <div className="grid gap-1">
      <div
        className="h-2 overflow-hidden rounded-full bg-muted"
        role="progressbar"
        aria-label="Evaluation progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
      >
        <div className="h-full bg-primary transition-[width]" style={{ width: `${percent}%` }} />
      </div>
      <span className="text-xs tabular-nums text-muted-foreground">
        {job.judgments_done}/{total} judged
        {job.judgments_failed ? ` · ${job.judgments_failed} failed` : ""}
        {job.judgments_skipped ? ` · ${job.judgments_skipped} skipped` : ""} · {job.traces_seen} runs
      </span>
    </div>
  );
}
