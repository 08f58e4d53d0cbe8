import { client } from "@/client/client.gen";
import { env } from "@/config/env";
import { ApiError } from "./api-error";
import { getToken } from "./auth-token";
import { fetchWithSession } from "./refresh-session";
import { expireSession, isSessionError } from "./session";

let configured = false;

/** Point the generated client at the API and wire auth + error handling (idempotent). */
export function configureApiClient(baseUrl: string = env.apiUrl): void {
  // Cookies (the session pair set at login) also when the API is on another dev origin.
  client.setConfig({
    baseUrl,
    throwOnError: true,
    credentials: "include",
    fetch: (request) => fetchWithSession(request as Request),
  });
  if (configured) return;
  configured = true;

  client.interceptors.request.use((request) => {
    const token = getToken();
    if (token && !request.headers.has("Authorization")) {
      request.headers.set("Authorization", `Bearer ${token}`);
    }
    return request;
  });

  client.interceptors.error.use((error, response) => {
    const status = response?.status ?? 0;
    const apiError = new ApiError(status, error);
    if (isSessionError(status, apiError.detail)) expireSession();
    return apiError;
  });
}

/** Headers for hand-made fetches (the SSE stream) that mirror the generated client's auth. */
export function authHeaders(): Record<string, string> {
  const token = getToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}
