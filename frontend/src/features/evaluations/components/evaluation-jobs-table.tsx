import { formatTime } from "@/components/agent/format";
import { PaginationControls } from "@/components/pagination-controls";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Skeleton } from "@/components/ui/skeleton";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { errorMessage } from "@/lib/api-error";
import { cn } from "@/lib/utils";
import { EVALUATIONS_PAGE_SIZE, useEvaluations } from "../api/get-evaluations";
import { JobProgress, JobStatusBadge } from "./job-progress";

type EvaluationJobsTableProps = {
  page: number;
  onPageChange: (page: number) => void;
  selectedId?: string;
  onSelect: (id: string) => void;
};

/** Evaluation jobs with live progress; a row opens its summary. */
export function EvaluationJobsTable({ page, onPageChange, selectedId, onSelect }: EvaluationJobsTableProps) {
  const jobs = useEvaluations(page);
  if (jobs.isPending) return <Skeleton className="h-32 w-full" />;
  if (jobs.isError) {
    return (
      <Alert variant="destructive">
        <AlertDescription>{errorMessage(jobs.error)}</AlertDescription>
      </Alert>
    );
  }
  if (jobs.data.count === 0) return <p className="text-sm text-muted-foreground">No evaluations yet.</p>;
  return (
    <div className="grid gap-2">
      <Table aria-label="Evaluation jobs">
        <TableHeader>
          <TableRow>
            <TableHead>Started</TableHead>
            <TableHead>Status</TableHead>
            <TableHead className="w-1/3">Progress</TableHead>
            <TableHead>Judge</TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {jobs.data.data.map((job) => (
            <TableRow key={job.id} className={cn(job.id === selectedId && "bg-muted")}>
              <TableCell>
                <button
                  type="button"
                  className="underline-offset-2 hover:underline"
                  onClick={() => onSelect(job.id)}
                  aria-current={job.id === selectedId ? "true" : undefined}
                >
                  {formatTime(job.created_at)}
                </button>
              </TableCell>
              <TableCell>
                <JobStatusBadge status={job.status} />
              </TableCell>
              <TableCell>
                <JobProgress job={job} />
              </TableCell>
              <TableCell>
                <Badge variant="outline" className="font-normal">
                  {String(job.options?.judge ?? "auto")}
                </Badge>
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <PaginationControls
        page={page}
        pageSize={EVALUATIONS_PAGE_SIZE}
        count={jobs.data.count}
        onPageChange={onPageChange}
        label="Evaluation pages"
      />
    </div>
  );
}
