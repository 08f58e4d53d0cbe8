import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { AgentRunRequest, ApprovalDecision } from "@/client";
import { env } from "@/config/env";
import { authHeaders } from "@/lib/api-client";
import { ApiError } from "@/lib/api-error";
import { expireSession, isSessionError } from "@/lib/session";
import type { AgentStreamEvent } from "../types";

export const STREAM_PATH = "/api/v1/agent/run/stream";

/** Where a paused run resumes after its owner decides an approval (streamed like a run). */
export function approvalStreamPath(threadId: string, approvalId: string): string {
  return `/api/v1/agent/threads/${encodeURIComponent(threadId)}/approvals/${encodeURIComponent(approvalId)}/stream`;
}

export type StreamAgentRunOptions = {
  body: AgentRunRequest | ApprovalDecision;
  /** Defaults to POST /agent/run/stream; `approvalStreamPath()` for a decision. */
  path?: string;
  signal?: AbortSignal;
  baseUrl?: string;
  /** Injected in unit tests that feed the reader hand-cut byte chunks. */
  fetch?: typeof fetch;
};

/** A `data:` payload that isn't a JSON stream event. */
export class StreamProtocolError extends Error {
  override name = "StreamProtocolError";
}

function toEvent(message: EventSourceMessage): AgentStreamEvent {
  let data: unknown;
  try {
    data = JSON.parse(message.data);
  } catch {
    throw new StreamProtocolError(`Malformed stream event: ${message.data.slice(0, 200)}`);
  }
  if (typeof data !== "object" || data === null || typeof (data as { type?: unknown }).type !== "string") {
    throw new StreamProtocolError("Stream event without a type");
  }
  return data as AgentStreamEvent;
}

/**
 * POST a message and yield the agent's stream events as they arrive.
 *
 * The browser's EventSource can't send a body or an Authorization header, so this reads the
 * response with fetch; eventsource-parser does the SSE framing (partial chunks, multi-line data,
 * comments/pings). Aborting `signal` ends the iteration with an AbortError.
 */
export async function* streamAgentRun({
  body,
  path = STREAM_PATH,
  signal,
  baseUrl = env.apiUrl,
  fetch: fetchImpl = globalThis.fetch,
}: StreamAgentRunOptions): AsyncGenerator<AgentStreamEvent, void, undefined> {
  const response = await fetchImpl(`${baseUrl}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "text/event-stream", ...authHeaders() },
    body: JSON.stringify(body),
    signal,
  });
  if (!response.ok) {
    const errorBody: unknown = await response.json().catch(() => null);
    const error = new ApiError(response.status, errorBody);
    if (isSessionError(error.status, error.detail)) expireSession();
    throw error;
  }
  if (!response.body) throw new StreamProtocolError("The response has no body");

  const pending: AgentStreamEvent[] = [];
  let parseError: Error | null = null;
  const parser = createParser({
    onEvent: (message) => {
      try {
        pending.push(toEvent(message));
      } catch (error) {
        parseError ??= error as Error;
      }
    },
  });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  try {
    while (true) {
      const { done, value } = await reader.read();
      // At the end, an event without its closing blank line is dropped (as the SSE spec says).
      parser.feed(done ? decoder.decode() : decoder.decode(value, { stream: true }));
      for (const event of pending.splice(0)) yield event;
      if (parseError) throw parseError;
      if (done) return;
    }
  } finally {
    // Ends the HTTP response when the caller stops early (break, error, abort).
    await reader.cancel().catch(() => undefined);
  }
}
