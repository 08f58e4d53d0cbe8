import { CheckCircle2Icon, MinusCircleIcon, XCircleIcon } from "lucide-react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { errorMessage } from "@/lib/api-error";
import { isActive, useEvaluation } from "../api/get-evaluations";
import { formatCost, formatPercent, parseSummary } from "../utils/summary";
import { JobProgress, JobStatusBadge } from "./job-progress";

/** One job: live progress, then its per-metric summary (pass rate vs threshold, average, judge cost). */
export function EvaluationSummaryCard({ jobId }: { jobId: string }) {
  const job = useEvaluation(jobId);
  if (job.isPending) return <Skeleton className="h-48 w-full" />;
  if (job.isError) {
    return (
      <Alert variant="destructive">
        <AlertDescription>{errorMessage(job.error)}</AlertDescription>
      </Alert>
    );
  }
  const summary = parseSummary(job.data.summary);
  return (
    <Card data-testid="evaluation-summary">
      <CardHeader>
        <CardTitle className="flex flex-wrap items-center gap-2">
          <h2 className="text-base">Evaluation</h2>
          <JobStatusBadge status={job.data.status} />
        </CardTitle>
        <CardDescription>
          {summary?.judge_label ?? "Judge"}
          {summary?.source ? ` · runs from ${summary.source}` : ""}
          {summary?.duration_seconds !== undefined ? ` · ${summary.duration_seconds} s` : ""}
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        <JobProgress job={job.data} />
        {job.data.error ? (
          <Alert variant="destructive">
            <AlertDescription>{job.data.error}</AlertDescription>
          </Alert>
        ) : null}
        {isActive(job.data) ? (
          <p className="text-sm text-muted-foreground" aria-live="polite">
            Running… the summary appears when the job finishes.
          </p>
        ) : summary ? (
          <>
            <Table aria-label="Metrics">
              <TableHeader>
                <TableRow>
                  <TableHead>Metric</TableHead>
                  <TableHead className="text-right">Pass rate</TableHead>
                  <TableHead className="text-right">Needed</TableHead>
                  <TableHead className="text-right">Average</TableHead>
                  <TableHead className="text-right">Threshold</TableHead>
                  <TableHead className="text-right">Judged</TableHead>
                </TableRow>
              </TableHeader>
              <TableBody>
                {summary.metrics.map((metric) => (
                  <TableRow key={metric.name}>
                    <TableCell>
                      <span className="flex items-center gap-2 font-medium">
                        {metric.gatePassed === null ? (
                          <MinusCircleIcon className="size-4 text-muted-foreground" aria-label="not judged" />
                        ) : metric.gatePassed ? (
                          <CheckCircle2Icon className="size-4 text-success" aria-label="passed" />
                        ) : (
                          <XCircleIcon className="size-4 text-destructive" aria-label="failed" />
                        )}
                        {metric.name}
                      </span>
                    </TableCell>
                    <TableCell className="text-right tabular-nums">
                      {formatPercent(metric.pass_rate)}
                    </TableCell>
                    <TableCell className="text-right tabular-nums">
                      {formatPercent(metric.min_pass_rate)}
                    </TableCell>
                    <TableCell className="text-right tabular-nums">{metric.avg_score.toFixed(2)}</TableCell>
                    <TableCell className="text-right tabular-nums">
                      {metric.higher_is_better ? "≥ " : "≤ "}
                      {metric.threshold}
                    </TableCell>
                    <TableCell className="text-right tabular-nums">
                      {metric.success_count}
                      {metric.failure_count ? ` (+${metric.failure_count} failed)` : ""}
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
            <p className="text-sm text-muted-foreground">
              Judge cost:{" "}
              <span className="font-medium text-foreground">{formatCost(summary.judge_usage)}</span>
              {summary.judge_usage?.calls !== undefined ? ` · ${summary.judge_usage.calls} calls` : ""}
              {summary.judge_usage?.input_tokens !== undefined
                ? ` · ${(summary.judge_usage.input_tokens + (summary.judge_usage.output_tokens ?? 0)).toLocaleString()} tokens`
                : ""}
            </p>
          </>
        ) : job.data.status === "completed" ? (
          <p className="text-sm text-muted-foreground">The job finished without a readable summary.</p>
        ) : null}
      </CardContent>
    </Card>
  );
}
