/** Only same-origin paths are followed after login (no open redirects). */
export function safeRedirect(target: string | undefined, fallback = "/"): string {
  if (!target?.startsWith("/") || target.startsWith("//") || target.startsWith("/\\")) {
    return fallback;
  }
  return target;
}
