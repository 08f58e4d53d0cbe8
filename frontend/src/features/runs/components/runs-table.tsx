import { Link } from "@tanstack/react-router";
import { HistoryIcon } from "lucide-react";
import { excerpt, formatLatency, formatTime } from "@/components/agent/format";
import { RunStatusBadge } from "@/components/agent/run-status-badge";
import { PaginationControls } from "@/components/pagination-controls";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Skeleton } from "@/components/ui/skeleton";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { errorMessage } from "@/lib/api-error";
import { RUNS_PAGE_SIZE, type RunFilters, useRuns } from "../api/get-runs";

export type ThreadOption = { id: string; title: string };

/** Run history: time, input, status, latency, tokens, evaluation scores; a row opens the run. */
export function RunsTable({
  filters,
  onPageChange,
}: {
  filters: RunFilters;
  onPageChange: (page: number) => void;
}) {
  const runs = useRuns(filters);

  if (runs.isPending) return <Skeleton className="h-64 w-full" />;
  if (runs.isError) {
    return (
      <Alert variant="destructive">
        <AlertDescription>{errorMessage(runs.error)}</AlertDescription>
      </Alert>
    );
  }
  if (runs.data.count === 0) {
    return (
      <div className="flex flex-col items-center gap-2 rounded-lg border border-dashed p-10 text-center">
        <HistoryIcon className="size-8 text-muted-foreground" aria-hidden />
        <p className="font-medium">No runs found</p>
        <p className="text-sm text-muted-foreground">Runs appear here after you chat with the agent.</p>
      </div>
    );
  }

  return (
    <div className="grid gap-2">
      <Table aria-label="Runs">
        <TableHeader>
          <TableRow>
            <TableHead>Time</TableHead>
            <TableHead>Input</TableHead>
            <TableHead>Status</TableHead>
            <TableHead className="text-right">Latency</TableHead>
            <TableHead className="text-right">Tokens</TableHead>
            <TableHead className="hidden lg:table-cell">Scores</TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {runs.data.data.map((run) => (
            <TableRow key={run.id}>
              <TableCell className="whitespace-nowrap text-muted-foreground">
                <time dateTime={run.created_at}>{formatTime(run.created_at)}</time>
              </TableCell>
              <TableCell className="max-w-[16rem] sm:max-w-md">
                <Link
                  to="/runs/$runId"
                  params={{ runId: run.id }}
                  className="block truncate font-medium underline-offset-2 hover:underline"
                >
                  {excerpt(run.input)}
                </Link>
                {run.thread_deleted ? (
                  <span className="text-xs text-muted-foreground">conversation deleted</span>
                ) : null}
              </TableCell>
              <TableCell>
                <RunStatusBadge status={run.status} />
              </TableCell>
              <TableCell className="text-right tabular-nums">{formatLatency(run.latency_ms)}</TableCell>
              <TableCell className="text-right tabular-nums">
                {(run.total_tokens ?? 0).toLocaleString()}
              </TableCell>
              <TableCell className="hidden lg:table-cell">
                <div className="flex flex-wrap gap-1">
                  {Object.entries(run.evaluations ?? {}).map(([metric, score]) => (
                    <Badge key={metric} variant="outline" className="font-normal">
                      {metric} {score.toFixed(2)}
                    </Badge>
                  ))}
                </div>
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <PaginationControls
        page={filters.page}
        pageSize={RUNS_PAGE_SIZE}
        count={runs.data.count}
        countIsEstimate={runs.data.count_is_estimate}
        hasNext={runs.data.next_cursor != null}
        onPageChange={onPageChange}
        label="Run pages"
      />
    </div>
  );
}
