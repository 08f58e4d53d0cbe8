import { useAgentConfig } from "../api/get-agent-config";

/** "Answered by the fallback model": shown under an answer when the model that answered
 * (the run's `model`) is not the configured primary (`GET /agent/config`'s `model_name`). */
export function FallbackNotice({ model }: { model?: string | null }) {
  const primary = useAgentConfig().data?.model_name;
  if (!model || !primary || model === primary) return null;
  return (
    <p className="px-2 text-muted-foreground text-xs" data-testid="fallback-notice" role="note">
      Answered by the fallback model ({model}): the primary model is unavailable right now.
    </p>
  );
}
