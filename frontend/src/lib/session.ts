import { clearToken, getToken } from "./auth-token";

export const SESSION_EXPIRED_MESSAGE = "Your session has expired, please log in again";
const INVALID_CREDENTIALS = "Could not validate credentials";

/** True when an API answer means the stored token is no longer any good. */
export function isSessionError(status: number, detail: unknown): boolean {
  return status === 401 || (status === 403 && detail === INVALID_CREDENTIALS);
}

let onExpired: () => void = () => {
  window.location.assign("/login?expired=1");
};

/** The app installs a router-aware handler here (imports flow lib -> app, never back). */
export function setSessionExpiredHandler(handler: () => void): void {
  onExpired = handler;
}

/** Drop the token and send the user to the login page with a message (once per lost session). */
export function expireSession(): void {
  if (getToken() === null) return;
  clearToken();
  onExpired();
}
