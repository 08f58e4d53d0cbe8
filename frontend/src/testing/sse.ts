/** A fetch that answers with a text/event-stream body cut into exactly the given byte chunks. */
export function chunkedSseFetch(chunks: (string | Uint8Array)[], init: ResponseInit = {}) {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const fetchImpl = async (url: RequestInfo | URL, requestInit?: RequestInit) => {
    calls.push({ url: String(url), init: requestInit });
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks)
          controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
        controller.close();
      },
    });
    return new Response(body, {
      status: 200,
      headers: { "Content-Type": "text/event-stream" },
      ...init,
    });
  };
  return { fetch: fetchImpl as typeof fetch, calls };
}

/** One SSE message as the backend writes it (`id:`, `event:` then `data:`, LF; `sep` "\r\n" for
 * sse-starlette's default framing, which the backend used before). */
export function sseMessage(
  event: { type: string } & Record<string, unknown>,
  id?: string,
  sep: "\n" | "\r\n" = "\n",
): string {
  const idLine = id === undefined ? "" : `id: ${id}${sep}`;
  return `${idLine}event: ${event.type}${sep}data: ${JSON.stringify(event)}${sep}${sep}`;
}
