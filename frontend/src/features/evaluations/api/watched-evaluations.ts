import type { QueryClient } from "@tanstack/react-query";

/** Ids of the evaluation jobs followed until they finish (a client-side list in the cache). */
export const WATCHING_KEY = ["agent", "evaluations", "watching"] as const;

/** Follow a job until it finishes, wherever the user goes meanwhile (see `useScoreRefresh`). */
export function watchEvaluation(queryClient: QueryClient, jobId: string): void {
  queryClient.setQueryData<string[]>(WATCHING_KEY, (ids = []) =>
    ids.includes(jobId) ? ids : [...ids, jobId],
  );
}
