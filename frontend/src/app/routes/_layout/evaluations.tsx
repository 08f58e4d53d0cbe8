import { createFileRoute, notFound, redirect } from "@tanstack/react-router";
import { z } from "zod";
import { PageHeader } from "@/components/page-header";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { env } from "@/config/env";
import { EvaluationJobsTable } from "@/features/evaluations/components/evaluation-jobs-table";
import { EvaluationSummaryCard } from "@/features/evaluations/components/evaluation-summary";
import { StartEvaluationForm } from "@/features/evaluations/components/start-evaluation-form";
import { currentUserQueryOptions } from "@/lib/auth";

export const Route = createFileRoute("/_layout/evaluations")({
  validateSearch: z.object({
    page: z.number().int().min(1).catch(1).default(1),
    job: z.uuid().optional().catch(undefined),
  }),
  beforeLoad: async ({ context }) => {
    if (!env.enableAgent) throw notFound();
    const user = await context.queryClient.ensureQueryData(currentUserQueryOptions());
    if (!user.is_superuser) throw redirect({ to: "/" });
  },
  component: EvaluationsPage,
});

function EvaluationsPage() {
  const { page, job } = Route.useSearch();
  const navigate = Route.useNavigate();
  return (
    <div className="grid max-w-5xl gap-6">
      <PageHeader
        title="Evaluations"
        description="Score recent runs with an LLM judge (or the offline judge) and check each metric against its threshold."
      />
      <Card>
        <CardHeader>
          <CardTitle>
            <h2 className="text-base">Start an evaluation</h2>
          </CardTitle>
        </CardHeader>
        <CardContent>
          <StartEvaluationForm onStarted={(started) => navigate({ search: { page: 1, job: started.id } })} />
        </CardContent>
      </Card>
      {job ? <EvaluationSummaryCard jobId={job} /> : null}
      <section className="grid gap-2" aria-labelledby="jobs-heading">
        <h2 id="jobs-heading" className="text-base font-semibold">
          Jobs
        </h2>
        <EvaluationJobsTable
          page={page}
          onPageChange={(next) => navigate({ search: (prev) => ({ ...prev, page: next }) })}
          selectedId={job}
          onSelect={(id) => navigate({ search: (prev) => ({ ...prev, job: id }) })}
        />
      </section>
    </div>
  );
}
