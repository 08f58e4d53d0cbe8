export type GuardrailNotice = { rule: string | null; reason: string };

// The backend words a refusal "Blocked by the <rule> guardrail: <reason>" (services/runs/worker.py).
const BLOCKED_MESSAGE = /^Blocked by the (\S+) guardrail:\s*([\s\S]*)$/;

/** The rule and reason of a guardrail refusal, from the run's error message (pure; unit-tested). */
export function guardrailNotice(message?: string | null): GuardrailNotice {
  const match = message ? BLOCKED_MESSAGE.exec(message.trim()) : null;
  if (!match) return { rule: null, reason: message?.trim() ?? "" };
  return { rule: match[1] ?? null, reason: match[2]?.trim() ?? "" };
}
