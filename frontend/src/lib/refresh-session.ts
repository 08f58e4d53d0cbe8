import { env } from "@/config/env";
import { getToken, setToken } from "./auth-token";

const REFRESH_PATH = "/api/v1/login/refresh";
const CSRF_COOKIE = "csrf_token";
const LOCK_NAME = "auth-refresh";

/** The CSRF cookie the API set at login (readable by design: double-submit). */
export function csrfToken(): string | null {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === CSRF_COOKIE) return decodeURIComponent(rest.join("="));
  }
  return null;
}

async function postRefresh(): Promise<string | null> {
  const csrf = csrfToken();
  if (!csrf) return null; // no session cookie pair: nothing to refresh
  const response = await fetch(`${env.apiUrl}${REFRESH_PATH}`, {
    method: "POST",
    credentials: "include",
    headers: { "X-CSRF-Token": csrf },
  }).catch(() => null);
  if (!response?.ok) return null;
  const body = (await response.json()) as { access_token: string };
  setToken(body.access_token);
  return body.access_token;
}

let inflight: Promise<string | null> | null = null;

async function underLock(): Promise<string | null> {
  if (!navigator.locks) return postRefresh();
  return await navigator.locks.request(LOCK_NAME, postRefresh);
}

/**
 * Exchange the refresh cookie for a new access token (null when there is no live session).
 *
 * A refresh token works once: concurrent refreshes would look like reuse and end the session.
 * So calls in this tab share one request, and tabs take turns through a Web Lock (the next tab
 * then sends the cookie the previous one received).
 */
export function refreshSession(): Promise<string | null> {
  if (inflight) return inflight;
  const pending = underLock().finally(() => {
    inflight = null;
  });
  inflight = pending;
  return pending;
}

/** The access token in memory, or one restored from the refresh cookie (e.g. after a reload). */
export async function restoreSession(): Promise<boolean> {
  return getToken() !== null || (await refreshSession()) !== null;
}

/**
 * `fetch` for API calls: a 401 on a request that carried a token triggers one refresh and one
 * retry with the new token; otherwise the 401 goes back to the caller (who sends to login).
 */
export async function fetchWithSession(
  request: Request,
  fetchImpl: typeof fetch = globalThis.fetch,
): Promise<Response> {
  const sentAuthorization = request.headers.get("Authorization");
  const retry = sentAuthorization ? request.clone() : null;
  const response = await fetchImpl(request);
  if (response.status !== 401 || !retry) return response;
  const token = await tokenForRetry(sentAuthorization);
  if (!token) return response;
  retry.headers.set("Authorization", `Bearer ${token}`);
  return fetchImpl(retry);
}

/** After a 401 on a request sent with `sentAuthorization`: a token worth one retry, or null. */
export async function tokenForRetry(sentAuthorization: string | null): Promise<string | null> {
  if (!sentAuthorization) return null;
  // Another request may have refreshed meanwhile: then its token is the one to retry with.
  const current = getToken();
  if (current && `Bearer ${current}` !== sentAuthorization) return current;
  return refreshSession();
}
