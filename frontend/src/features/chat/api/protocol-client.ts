import { Client } from "@langchain/langgraph-sdk";
import { env } from "@/config/env";
import { getToken } from "@/lib/auth-token";
import { fetchWithSession } from "@/lib/refresh-session";
import { expireSession, isSessionError } from "@/lib/session";

/** The agent's id on the Agent Protocol API (the backend serves one assistant, graph id `agent`). */
export const ASSISTANT_ID = "agent";

/**
 * `fetch` for the SDK: our session token on every request, one refresh and retry after a 401 (as
 * the generated client does), and the login page when the session is gone.
 */
async function sessionFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const request = new Request(input, { ...init, credentials: "include" });
  const token = getToken();
  if (token) request.headers.set("Authorization", `Bearer ${token}`);
  const response = await fetchWithSession(request);
  if (isSessionError(response.status, null)) expireSession();
  return response;
}

/**
 * The `@langchain/langgraph-sdk` client for our Agent Protocol API (mounted at `protocolPath`,
 * from GET /agent/config). No API key: the browser is signed in with its session token.
 */
export function protocolClient(protocolPath: string): Client {
  return new Client({
    apiUrl: `${env.apiUrl || window.location.origin}${protocolPath}`,
    apiKey: null,
    // Requests the SDK retries on its own would hide an outage for half a minute; the chat
    // shows it and reconnects instead.
    callerOptions: { fetch: sessionFetch, maxRetries: 1 },
  });
}
