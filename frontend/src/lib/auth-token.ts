/**
 * The access token lives in memory only (never localStorage/sessionStorage), so injected script
 * can't read it from storage; a reload gets a new one through the refresh cookie (see session.ts).
 */
let accessToken: string | null = null;

export function getToken(): string | null {
  return accessToken;
}

export function setToken(token: string): void {
  accessToken = token;
}

export function clearToken(): void {
  accessToken = null;
}

export function isLoggedIn(): boolean {
  return accessToken !== null;
}
