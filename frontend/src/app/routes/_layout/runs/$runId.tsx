import { createFileRoute, Link, notFound } from "@tanstack/react-router";
import { ArrowLeftIcon } from "lucide-react";
import { PageHeader } from "@/components/page-header";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { env } from "@/config/env";
import { useRun } from "@/features/runs/api/get-run";
import { RunDetailView } from "@/features/runs/components/run-detail";
import { RunFeedback } from "@/features/runs/components/run-feedback";
import { ApiError, errorMessage } from "@/lib/api-error";

export const Route = createFileRoute("/_layout/runs/$runId")({
  beforeLoad: () => {
    if (!env.enableAgent) throw notFound();
  },
  component: RunPage,
});

function RunPage() {
  const { runId } = Route.useParams();
  const run = useRun(runId);
  return (
    <div className="grid max-w-5xl gap-2">
      <div>
        <Button asChild variant="ghost" size="sm">
          <Link to="/runs">
            <ArrowLeftIcon /> Run history
          </Link>
        </Button>
      </div>
      <PageHeader title="Run detail" />
      {run.isPending ? (
        <Skeleton className="h-96 w-full" />
      ) : run.isError ? (
        <Alert variant="destructive">
          <AlertDescription>
            {run.error instanceof ApiError && (run.error.status === 404 || run.error.status === 422)
              ? "Run not found."
              : errorMessage(run.error)}
          </AlertDescription>
        </Alert>
      ) : (
        <>
          {run.data.thread_id && !run.data.thread_deleted ? (
            <p className="text-sm">
              <Link
                to="/chat"
                search={{ thread: run.data.thread_id }}
                className="underline underline-offset-2"
              >
                Open the conversation
              </Link>
            </p>
          ) : null}
          <RunDetailView run={run.data} feedback={<RunFeedback runId={run.data.id} />} />
        </>
      )}
    </div>
  );
}
