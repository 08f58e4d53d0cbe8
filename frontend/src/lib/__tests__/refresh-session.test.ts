import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { getToken, setToken } from "../auth-token";
import { fetchWithSession, refreshSession, restoreSession } from "../refresh-session";

type Call = { url: string; method: string; headers: Headers; credentials?: RequestCredentials };

/** A fake API: /login/refresh answers `refreshStatus`, other calls 401 unless the token is `good`. */
function fakeApi(refreshStatus = 200) {
  const calls: Call[] = [];
  let issued = 0;
  const impl = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request =
      input instanceof Request ? input : new Request(new URL(String(input), "http://app"), init);
    calls.push({
      url: request.url,
      method: request.method,
      headers: request.headers,
      credentials: init?.credentials,
    });
    if (request.url.endsWith("/api/v1/login/refresh")) {
      if (refreshStatus !== 200) return new Response('{"detail":"no"}', { status: refreshStatus });
      issued += 1;
      return Response.json({ access_token: `good-${issued}`, token_type: "bearer" });
    }
    const auth = request.headers.get("Authorization") ?? "";
    return auth.startsWith("Bearer good")
      ? Response.json({ ok: true, body: await request.text() })
      : Response.json({ detail: "Could not validate credentials" }, { status: 401 });
  };
  return { impl: impl as typeof fetch, calls };
}

/** jsdom has no Cookie Store API: set cookies the way the browser's API response would. */
function writeCookie(cookie: string) {
  // biome-ignore lint/suspicious/noDocumentCookie: the only cookie API jsdom offers
  document.cookie = cookie;
}

function clearCookies() {
  for (const part of document.cookie.split(";")) {
    const name = part.split("=")[0]?.trim();
    if (name) writeCookie(`${name}=; max-age=0; path=/`);
  }
}

beforeEach(() => {
  writeCookie("csrf_token=csrf-123; path=/");
});

afterEach(() => {
  clearCookies();
  vi.unstubAllGlobals();
});

describe("refreshSession", () => {
  it("sends the CSRF cookie as X-CSRF-Token with credentials and keeps the new token in memory", async () => {
    const api = fakeApi();
    vi.stubGlobal("fetch", api.impl);
    expect(await refreshSession()).toBe("good-1");
    expect(getToken()).toBe("good-1");
    expect(api.calls).toHaveLength(1);
    expect(api.calls[0]?.method).toBe("POST");
    expect(api.calls[0]?.headers.get("X-CSRF-Token")).toBe("csrf-123");
    expect(api.calls[0]?.credentials).toBe("include");
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
  });

  it("shares one request between concurrent callers (a refresh token works once)", async () => {
    const api = fakeApi();
    vi.stubGlobal("fetch", api.impl);
    const tokens = await Promise.all([refreshSession(), refreshSession(), refreshSession()]);
    expect(tokens).toEqual(["good-1", "good-1", "good-1"]);
    expect(api.calls).toHaveLength(1);
  });

  it("asks nothing without a CSRF cookie, and answers null when the API refuses", async () => {
    const api = fakeApi(401);
    vi.stubGlobal("fetch", api.impl);
    clearCookies();
    expect(await restoreSession()).toBe(false);
    expect(api.calls).toHaveLength(0);
    writeCookie("csrf_token=csrf-123; path=/");
    expect(await restoreSession()).toBe(false);
    expect(api.calls).toHaveLength(1);
    expect(getToken()).toBeNull();
  });
});

describe("fetchWithSession", () => {
  it("refreshes once on a 401 and retries the request, body included", async () => {
    const api = fakeApi();
    vi.stubGlobal("fetch", api.impl);
    setToken("expired");
    const request = new Request("http://app/api/v1/items/", {
      method: "POST",
      headers: { Authorization: "Bearer expired" },
      body: '{"title":"x"}',
    });
    const response = await fetchWithSession(request, api.impl);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, body: '{"title":"x"}' });
    expect(api.calls.map((c) => c.url.replace("http://app", ""))).toEqual([
      "/api/v1/items/",
      "/api/v1/login/refresh",
      "/api/v1/items/",
    ]);
    expect(getToken()).toBe("good-1");
  });

  it("hands the 401 back when the session is gone (the caller sends to login)", async () => {
    const api = fakeApi(401);
    vi.stubGlobal("fetch", api.impl);
    setToken("revoked");
    const request = new Request("http://app/api/v1/users/me", {
      headers: { Authorization: "Bearer revoked" },
    });
    const response = await fetchWithSession(request, api.impl);
    expect(response.status).toBe(401);
    expect(api.calls).toHaveLength(2);
  });

  it("never refreshes for a request sent without a token (e.g. a failed login)", async () => {
    const api = fakeApi();
    vi.stubGlobal("fetch", api.impl);
    const response = await fetchWithSession(new Request("http://app/api/v1/users/me"), api.impl);
    expect(response.status).toBe(401);
    expect(api.calls).toHaveLength(1);
  });
});
