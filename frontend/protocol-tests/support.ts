import { randomUUID } from "node:crypto";
import { Client } from "@langchain/langgraph-sdk";
import { expect, inject } from "vitest";

export const protocolUrl = inject("protocolUrl");
export const echoUrl = inject("echoUrl");
const baseUrl = inject("baseUrl");

export const STREAM_MODES: ("values" | "messages-tuple" | "custom")[] = [
  "values",
  "messages-tuple",
  "custom",
];

export type TestUser = { email: string; password: string; token: string };

async function api(pathname: string, init: RequestInit, status = 200): Promise<Response> {
  const response = await fetch(`${baseUrl}/api/v1${pathname}`, init);
  expect(response.status, `${pathname}: ${await response.clone().text()}`).toBe(status);
  return response;
}

/** A new account (signed up through our own API) and its access token. */
export async function newUser(): Promise<TestUser> {
  const id = randomUUID().slice(0, 8);
  const email = `protocol-${id}@example.com`;
  const password = `pw-${id}-secret`;
  await api("/users/signup", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password, full_name: `Protocol ${id}` }),
  });
  const login = await api("/login/access-token", {
    method: "POST",
    body: new URLSearchParams({ username: email, password }),
  });
  const { access_token: token } = (await login.json()) as { access_token: string };
  return { email, password, token };
}

/** A personal API key of the user (POST /api/v1/api-keys: the only answer that shows the key). */
export async function newApiKey(user: TestUser): Promise<{ id: string; key: string }> {
  const response = await api(
    "/api-keys",
    {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${user.token}` },
      body: JSON.stringify({ name: "protocol tests" }),
    },
    201,
  );
  return (await response.json()) as { id: string; key: string };
}

/** Revoke one of the user's API keys. */
export async function revokeApiKey(user: TestUser, id: string): Promise<void> {
  await api(`/api-keys/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${user.token}` } });
}

/** The SDK's client as agent-chat-ui makes it: `apiKey`, which it sends as X-Api-Key. */
export function keyClient(key: string): Client {
  return new Client({ apiUrl: protocolUrl, apiKey: key });
}

/** The SDK's client, authenticated with our JWT (no API key, not even one from the environment). */
export function bearerClient(user: TestUser): Client {
  return new Client({
    apiUrl: protocolUrl,
    apiKey: null,
    defaultHeaders: { Authorization: `Bearer ${user.token}` },
  });
}

/** The HTTP status of a rejected SDK call, and its body parsed as JSON. */
export async function failure(call: Promise<unknown>): Promise<{ status: number; body: unknown }> {
  const error = await call.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (caught: unknown) => caught as { status?: number; text?: string },
  );
  return { status: error.status ?? 0, body: JSON.parse(error.text ?? "null") };
}

/** The request the offline model turns into an http_post (which needs approval) to the echo server. */
export function postRequest(text: string): string {
  return `post "${text}" to ${echoUrl}/hook`;
}

/** What the echo server received (bodies of POSTs), to see whether a tool call ran. */
export async function echoed(): Promise<string[]> {
  const response = await fetch(`${echoUrl}/received`);
  return ((await response.json()) as { body: string }[]).map((entry) => entry.body);
}
