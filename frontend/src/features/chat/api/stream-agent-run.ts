import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { AgentRunRequest, ApprovalDecision } from "@/client";
import { env } from "@/config/env";
import { authHeaders } from "@/lib/api-client";
import { ApiError } from "@/lib/api-error";
import { tokenForRetry } from "@/lib/refresh-session";
import { expireSession, isSessionError } from "@/lib/session";
import type { AgentStreamEvent } from "../types";

export const STREAM_PATH = "/api/v1/agent/run/stream";

/** Where a paused run resumes after its owner decides an approval (streamed like a run). */
export function approvalStreamPath(threadId: string, approvalId: string): string {
  return `/api/v1/agent/threads/${encodeURIComponent(threadId)}/approvals/${encodeURIComponent(approvalId)}/stream`;
}

/** One stream event with its id in the run's event log (send it back as `Last-Event-ID`). */
export type LoggedStreamEvent = { id: string | undefined; event: AgentStreamEvent };

export type StreamAgentRunOptions = {
  /** POSTed as JSON; without a body the stream is read with GET (joining a run). */
  body?: AgentRunRequest | ApprovalDecision;
  /** Defaults to POST /agent/run/stream; `approvalStreamPath()` for a decision. */
  path?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  baseUrl?: string;
  /** Injected in unit tests that feed the reader hand-cut byte chunks. */
  fetch?: typeof fetch;
};

/** A `data:` payload that isn't a JSON stream event. */
export class StreamProtocolError extends Error {
  override name = "StreamProtocolError";
}

function toEvent(message: EventSourceMessage): LoggedStreamEvent {
  let data: unknown;
  try {
    data = JSON.parse(message.data);
  } catch {
    throw new StreamProtocolError(`Malformed stream event: ${message.data.slice(0, 200)}`);
  }
  if (typeof data !== "object" || data === null || typeof (data as { type?: unknown }).type !== "string") {
    throw new StreamProtocolError("Stream event without a type");
  }
  // An empty `id:` resets the last event id in the SSE spec; we only keep real ids.
  return { id: message.id || undefined, event: data as AgentStreamEvent };
}

/**
 * POST a message (or GET a run to join) and yield the agent's stream events, with their ids, as
 * they arrive.
 *
 * The browser's EventSource can't send a body or an Authorization header, so this reads the
 * response with fetch; eventsource-parser does the SSE framing (partial chunks, multi-line data,
 * comments/pings). Aborting `signal` ends the iteration with an AbortError.
 */
export async function* streamAgentRun({
  body,
  path = STREAM_PATH,
  headers,
  signal,
  baseUrl = env.apiUrl,
  fetch: fetchImpl = globalThis.fetch,
}: StreamAgentRunOptions): AsyncGenerator<LoggedStreamEvent, void, undefined> {
  const send = () =>
    fetchImpl(`${baseUrl}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: {
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        Accept: "text/event-stream",
        ...authHeaders(),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  const sentAuthorization = authHeaders().Authorization ?? null;
  let response = await send();
  // An expired access token: one refresh through the cookie, one retry (as the API client does).
  if (response.status === 401 && (await tokenForRetry(sentAuthorization))) response = await send();
  if (!response.ok) {
    const errorBody: unknown = await response.json().catch(() => null);
    const error = new ApiError(response.status, errorBody);
    if (isSessionError(error.status, error.detail)) expireSession();
    throw error;
  }
  if (!response.body) throw new StreamProtocolError("The response has no body");

  const pending: LoggedStreamEvent[] = [];
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
