/** What went wrong with a chat request, in words for the user. */
export type ChatFailure = {
  /** `outage`: the server can't be reached (the chat reconnects by itself). */
  kind: "outage" | "busy" | "not_found" | "refused";
  status: number;
  message: string;
};

/** The one message for an unreachable server, wherever the chat notices it. */
export const OUTAGE_MESSAGE = "Can't reach the server. Reconnecting…";

const BUSY_MESSAGE =
  "This conversation is still answering. Wait for the answer to finish (or stop it), then try again.";
const NOT_FOUND_MESSAGE = "This conversation doesn't exist or isn't yours.";

function detailOf(text: unknown): string | null {
  if (typeof text !== "string" || !text) return null;
  try {
    const body = JSON.parse(text) as { detail?: unknown };
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail))
      return (
        body.detail
          .map((item: { loc?: unknown[]; msg?: string }) => {
            const field = item.loc?.filter((part) => part !== "body").join(".");
            return field ? `${field}: ${item.msg ?? ""}` : (item.msg ?? "");
          })
          .join("; ") || null
      );
  } catch {
    return text;
  }
  return null;
}

/** A network failure (no HTTP answer at all), as opposed to a refusal with a status. */
export function isOutage(error: unknown): boolean {
  if (error instanceof TypeError) return true; // fetch: "Failed to fetch" / "NetworkError"
  const name = (error as { name?: string } | null)?.name;
  // The SDK wraps a failed fetch in ConnectionError; MaxReconnectAttemptsError: its rejoin gave up.
  if (name === "ConnectionError" || name === "MaxReconnectAttemptsError" || name === "TimeoutError")
    return true;
  const status = (error as { status?: number } | null)?.status;
  return status === 502 || status === 503 || status === 504;
}

/** Classify an error thrown by the SDK (its HTTPError carries `status` and the body as `text`). */
export function describeFailure(error: unknown): ChatFailure {
  if (isOutage(error)) return { kind: "outage", status: 0, message: OUTAGE_MESSAGE };
  const { status = 0, text } = (error ?? {}) as { status?: number; text?: unknown };
  const detail = detailOf(text);
  if (status === 409) return { kind: "busy", status, message: BUSY_MESSAGE };
  if (status === 404) return { kind: "not_found", status, message: NOT_FOUND_MESSAGE };
  const fallback = error instanceof Error ? error.message : "Something went wrong";
  return { kind: "refused", status, message: detail ?? fallback };
}
