import { keepPreviousData, queryOptions, useQuery } from "@tanstack/react-query";
import { type EvaluationJobPublic, evaluationsListEvaluations, evaluationsReadEvaluation } from "@/client";
import { watchEvaluation } from "./watched-evaluations";

export const EVALUATIONS_PAGE_SIZE = 10;
const POLL_MS = 1500;

export function isActive(job: Pick<EvaluationJobPublic, "status">): boolean {
  return job.status === "queued" || job.status === "running";
}

/** GET /agent/evaluations (superuser): jobs, newest first; polls while one is running. */
export const evaluationsQueryOptions = (page: number) =>
  queryOptions({
    queryKey: ["agent", "evaluations", "list", { page }],
    queryFn: async ({ client }) => {
      const jobs = await evaluationsListEvaluations({
        query: { skip: (page - 1) * EVALUATIONS_PAGE_SIZE, limit: EVALUATIONS_PAGE_SIZE },
      });
      // A running job (started here or elsewhere) refreshes the run history's scores when done.
      for (const job of jobs.data) if (isActive(job)) watchEvaluation(client, job.id);
      return jobs;
    },
    placeholderData: keepPreviousData,
    refetchInterval: (query) => (query.state.data?.data.some(isActive) ? POLL_MS : false),
  });

export function useEvaluations(page: number) {
  return useQuery(evaluationsQueryOptions(page));
}

/** GET /agent/evaluations/{id}: one job's progress and summary; polls until it finishes. */
export const evaluationQueryOptions = (jobId: string) =>
  queryOptions({
    queryKey: ["agent", "evaluations", "detail", jobId],
    queryFn: () => evaluationsReadEvaluation({ path: { job_id: jobId } }),
    refetchInterval: (query) => (query.state.data && !isActive(query.state.data) ? false : POLL_MS),
  });

export function useEvaluation(jobId: string | undefined) {
  return useQuery({ ...evaluationQueryOptions(jobId ?? ""), enabled: Boolean(jobId) });
}
