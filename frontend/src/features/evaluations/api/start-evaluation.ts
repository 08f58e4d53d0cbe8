import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type EvaluationJobCreate, evaluationsStartEvaluation } from "@/client";
import { watchEvaluation } from "./watched-evaluations";

/** POST /agent/evaluations (superuser): start a job in the background (202). */
export function useStartEvaluation() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: EvaluationJobCreate) => evaluationsStartEvaluation({ body }),
    onSuccess: (job) => {
      watchEvaluation(queryClient, job.id);
      return queryClient.invalidateQueries({ queryKey: ["agent", "evaluations", "list"] });
    },
  });
}
