import { useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { evaluationQueryOptions, isActive } from "../api/get-evaluations";
import { WATCHING_KEY } from "../api/watched-evaluations";

/** The run history's queries (list, detail, a thread's runs): they carry the scores. */
const RUNS_KEY = ["agent", "runs"] as const;

/**
 * Polls every evaluation job this tab started or saw running, on any page, and refetches the
 * run history when one finishes, so its scores appear without a reload. Mounted once, in the
 * app layout; it does nothing while no job is being watched.
 */
export function useScoreRefresh(): void {
  const queryClient = useQueryClient();
  const { data: watching } = useQuery({
    queryKey: WATCHING_KEY,
    queryFn: () => queryClient.getQueryData<string[]>(WATCHING_KEY) ?? [],
    initialData: [],
    staleTime: Number.POSITIVE_INFINITY,
    gcTime: Number.POSITIVE_INFINITY,
  });
  const jobs = useQueries({ queries: watching.map((id) => evaluationQueryOptions(id)) });
  const finished = watching.filter((_, index) => {
    const job = jobs[index]?.data;
    return job !== undefined && !isActive(job);
  });
  const finishedKey = finished.join(",");

  useEffect(() => {
    if (!finishedKey) return;
    const done = finishedKey.split(",");
    void queryClient.invalidateQueries({ queryKey: RUNS_KEY });
    queryClient.setQueryData<string[]>(WATCHING_KEY, (ids = []) => ids.filter((id) => !done.includes(id)));
  }, [finishedKey, queryClient]);
}
