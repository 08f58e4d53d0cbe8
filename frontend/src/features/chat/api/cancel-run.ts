import { agentCancelRun } from "@/client";
import { ApiError } from "@/lib/api-error";

/** POST /agent/runs/{id}/cancel; a run that already finished (409) is not an error here. */
export async function cancelRun(runId: string): Promise<void> {
  try {
    await agentCancelRun({ path: { run_id: runId } });
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) return;
    throw error;
  }
}
