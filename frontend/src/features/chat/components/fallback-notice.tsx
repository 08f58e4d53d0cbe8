import type { AgentRunPublic } from "@/client";

type Run = Pick<AgentRunPublic, "mode" | "degraded_reason" | "model">;

const REASONS: Record<NonNullable<Run["degraded_reason"]>, string> = {
  fallback: "the primary model failed",
  breaker_open: "the primary model is unavailable right now",
  timeout: "the primary model was too slow",
};

/** "Answered by the fallback model": shown under an answer whose run the backend recorded as
 * degraded (`mode`), naming the model that answered and why. */
export function FallbackNotice({ run }: { run?: Run | null }) {
  if (run?.mode !== "degraded") return null;
  const reason = run.degraded_reason ? REASONS[run.degraded_reason] : "the primary model failed";
  return (
    <p className="px-2 text-muted-foreground text-xs" data-testid="fallback-notice" role="note">
      Answered by the fallback model{run.model ? ` (${run.model})` : ""}: {reason}.
    </p>
  );
}
