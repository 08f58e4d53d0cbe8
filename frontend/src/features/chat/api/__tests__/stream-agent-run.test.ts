import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "@/lib/api-error";
import { getToken, setToken } from "@/lib/auth-token";
import { setSessionExpiredHandler } from "@/lib/session";
import { chunkedSseFetch, sseMessage } from "@/testing/sse";
import type { AgentStreamEvent } from "../../types";
import { joinRunStream } from "../join-run-stream";
import {
  type LoggedStreamEvent,
  STREAM_PATH,
  StreamProtocolError,
  streamAgentRun,
} from "../stream-agent-run";

const RUN_ID = "0b5c9f7e-8f61-4b0a-9d8e-2a1f3c4d5e6f";
const THREAD_ID = "7d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6";

async function collect(iterable: AsyncIterable<LoggedStreamEvent>): Promise<AgentStreamEvent[]> {
  const events: AgentStreamEvent[] = [];
  for await (const { event } of iterable) events.push(event);
  return events;
}

describe("streamAgentRun", () => {
  it("posts the message as JSON with the bearer token", async () => {
    setToken("tok-123");
    const { fetch, calls } = chunkedSseFetch([sseMessage({ type: "token", text: "hi" })]);
    await collect(streamAgentRun({ body: { message: "hello", thread_id: THREAD_ID }, fetch, baseUrl: "" }));
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe(STREAM_PATH);
    const headers = calls[0]?.init?.headers as Record<string, string>;
    expect(headers.Authorization).toBe("Bearer tok-123");
    expect(headers.Accept).toBe("text/event-stream");
    expect(JSON.parse(String(calls[0]?.init?.body))).toEqual({ message: "hello", thread_id: THREAD_ID });
  });

  it("reassembles events cut anywhere, even inside a multi-byte character", async () => {
    const started = sseMessage({ type: "run_started", run_id: RUN_ID, thread_id: THREAD_ID });
    const token = new TextEncoder().encode(sseMessage({ type: "token", text: "café ☕" }));
    const cut = token.indexOf(0xe2) + 1; // inside the 3-byte "☕"
    const { fetch } = chunkedSseFetch([
      started.slice(0, 7),
      started.slice(7, 30),
      started.slice(30),
      token.slice(0, 5),
      token.slice(5, cut),
      token.slice(cut),
    ]);
    const events = await collect(streamAgentRun({ body: { message: "x" }, fetch, baseUrl: "" }));
    expect(events).toEqual([
      { type: "run_started", run_id: RUN_ID, thread_id: THREAD_ID },
      { type: "token", text: "café ☕" },
    ]);
  });

  it("parses LF and CRLF framing alike (the backend sends LF)", async () => {
    const events = [
      { type: "run_started", run_id: RUN_ID, thread_id: THREAD_ID },
      { type: "token", text: "hi" },
    ];
    for (const sep of ["\n", "\r\n"] as const) {
      const body = events.map((event, index) => sseMessage(event, String(index + 1), sep)).join("");
      const { fetch } = chunkedSseFetch([body.slice(0, 11), body.slice(11)]);
      expect(await collect(streamAgentRun({ body: { message: "x" }, fetch, baseUrl: "" }))).toEqual(events);
    }
  });

  it("joins multi-line data fields with newlines and ignores ping comments", async () => {
    const body =
      ": ping - 2026-11-22 00:00:00\r\n\r\n" +
      'event: plan\ndata: {"type": "plan",\ndata:  "text": "1. Look up\\n2. Answer",\ndata:  "steps": []}\n\n' +
      ": ping\n\n";
    const { fetch } = chunkedSseFetch([body]);
    const events = await collect(streamAgentRun({ body: { message: "x" }, fetch, baseUrl: "" }));
    expect(events).toEqual([{ type: "plan", text: "1. Look up\n2. Answer", steps: [] }]);
  });

  it("drops an event cut off before its blank line, as the SSE spec says", async () => {
    const { fetch } = chunkedSseFetch([
      sseMessage({ type: "token", text: "a" }),
      `event: token\ndata: ${JSON.stringify({ type: "token", text: "b" })}`,
    ]);
    const events = await collect(streamAgentRun({ body: { message: "x" }, fetch, baseUrl: "" }));
    expect(events.map((e) => (e.type === "token" ? e.text : e.type))).toEqual(["a"]);
  });

  it("passes an error event through with its code and message", async () => {
    const { fetch } = chunkedSseFetch([
      sseMessage({ type: "run_started", run_id: RUN_ID, thread_id: THREAD_ID }),
      sseMessage({ type: "token", text: "partial" }),
      sseMessage({ type: "error", code: "model_timeout", message: "The model timed out", run_id: RUN_ID }),
    ]);
    const events = await collect(streamAgentRun({ body: { message: "x" }, fetch, baseUrl: "" }));
    expect(events.at(-1)).toEqual({
      type: "error",
      code: "model_timeout",
      message: "The model timed out",
      run_id: RUN_ID,
    });
  });

  it("fails on a data payload that isn't a JSON event", async () => {
    const { fetch } = chunkedSseFetch([sseMessage({ type: "token", text: "ok" }), "data: not json\n\n"]);
    const seen: AgentStreamEvent[] = [];
    await expect(async () => {
      for await (const { event } of streamAgentRun({ body: { message: "x" }, fetch, baseUrl: "" }))
        seen.push(event);
    }).rejects.toBeInstanceOf(StreamProtocolError);
    expect(seen).toEqual([{ type: "token", text: "ok" }]);
  });

  it("turns an HTTP error into an ApiError with the API's detail", async () => {
    const { fetch } = chunkedSseFetch([JSON.stringify({ detail: "Thread not found" })], {
      status: 404,
      headers: { "Content-Type": "application/json" },
    });
    const error = await collect(streamAgentRun({ body: { message: "x" }, fetch, baseUrl: "" })).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 404, message: "Thread not found" });
  });

  it("expires the session on an invalid token", async () => {
    setToken("stale");
    let expired = 0;
    setSessionExpiredHandler(() => {
      expired += 1;
    });
    const { fetch } = chunkedSseFetch([JSON.stringify({ detail: "Could not validate credentials" })], {
      status: 403,
    });
    await expect(
      collect(streamAgentRun({ body: { message: "x" }, fetch, baseUrl: "" })),
    ).rejects.toMatchObject({
      status: 403,
    });
    expect(expired).toBe(1);
    expect(getToken()).toBeNull();
  });
});

describe("event ids", () => {
  it("yields each event with its `id:` (Redis-style or counter), and none without one", async () => {
    const { fetch } = chunkedSseFetch([
      sseMessage({ type: "run_started", run_id: RUN_ID, thread_id: THREAD_ID }, "1733051234567-0"),
      `id: 4\ndata: ${JSON.stringify({ type: "token", text: "a" })}\n\n`,
      sseMessage({ type: "token", text: "b" }),
      ": ping\n\n",
    ]);
    const logged: LoggedStreamEvent[] = [];
    for await (const item of streamAgentRun({ body: { message: "x" }, fetch, baseUrl: "" }))
      logged.push(item);
    expect(logged.map((item) => item.id)).toEqual(["1733051234567-0", "4", undefined]);
    expect(logged[1]?.event).toEqual({ type: "token", text: "a" });
  });

  it("an id cut across chunks is reassembled", async () => {
    const message = sseMessage({ type: "token", text: "x" }, "1733051234567-12");
    const { fetch } = chunkedSseFetch([message.slice(0, 9), message.slice(9)]);
    const [first] = await (async () => {
      const items: LoggedStreamEvent[] = [];
      for await (const item of streamAgentRun({ body: { message: "x" }, fetch, baseUrl: "" }))
        items.push(item);
      return items;
    })();
    expect(first?.id).toBe("1733051234567-12");
  });
});

describe("joinRunStream", () => {
  it("GETs the run's stream with Last-Event-ID and no body", async () => {
    setToken("tok-9");
    const { fetch, calls } = chunkedSseFetch([sseMessage({ type: "token", text: "later" }, "8")]);
    const events = await collect(joinRunStream({ runId: RUN_ID, lastEventId: "7", fetch, baseUrl: "" }));
    expect(events).toEqual([{ type: "token", text: "later" }]);
    expect(calls[0]?.url).toBe(`/api/v1/agent/runs/${RUN_ID}/stream`);
    expect(calls[0]?.init?.method).toBe("GET");
    expect(calls[0]?.init?.body).toBeUndefined();
    const headers = calls[0]?.init?.headers as Record<string, string>;
    expect(headers["Last-Event-ID"]).toBe("7");
    expect(headers.Authorization).toBe("Bearer tok-9");
    expect(headers["Content-Type"]).toBeUndefined();
  });

  it("without an id, asks for the replay (no Last-Event-ID header)", async () => {
    const { fetch, calls } = chunkedSseFetch([]);
    await collect(joinRunStream({ runId: RUN_ID, fetch, baseUrl: "" }));
    const headers = calls[0]?.init?.headers as Record<string, string>;
    expect("Last-Event-ID" in headers).toBe(false);
  });

  it("a foreign id is a 400 ApiError with the API's detail", async () => {
    const { fetch } = chunkedSseFetch([JSON.stringify({ detail: "'9' is not an event id of this run" })], {
      status: 400,
      headers: { "Content-Type": "application/json" },
    });
    const error = await collect(joinRunStream({ runId: RUN_ID, lastEventId: "9", fetch, baseUrl: "" })).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400 });
  });
});

describe("streamAgentRun against a real HTTP server", () => {
  let server: Server | undefined;
  let closed: Promise<void> | undefined;

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function startServer(): Promise<string> {
    let onClose: () => void = () => undefined;
    closed = new Promise<void>((resolve) => {
      onClose = resolve;
    });
    const http = createServer((req, res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
      res.write(sseMessage({ type: "run_started", run_id: RUN_ID, thread_id: THREAD_ID }));
      res.write(sseMessage({ type: "token", text: "first " }));
      // Then keep the response open, as a long answer would, until the client goes away.
      res.on("close", onClose);
      req.resume();
    });
    server = http;
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  }

  it("stops with an AbortError when aborted, and closes the connection", async () => {
    const baseUrl = await startServer();
    const controller = new AbortController();
    const seen: AgentStreamEvent[] = [];
    const run = (async () => {
      for await (const { event } of streamAgentRun({
        body: { message: "x" },
        signal: controller.signal,
        baseUrl,
      })) {
        seen.push(event);
        if (event.type === "token") controller.abort();
      }
    })();
    await expect(run).rejects.toMatchObject({ name: "AbortError" });
    expect(seen.map((e) => e.type)).toEqual(["run_started", "token"]);
    await expect(closed).resolves.toBeUndefined();
  });

  it("stops reading when the consumer breaks out early", async () => {
    const baseUrl = await startServer();
    for await (const { event } of streamAgentRun({ body: { message: "x" }, baseUrl })) {
      if (event.type === "run_started") break;
    }
    await expect(closed).resolves.toBeUndefined();
  });
});
