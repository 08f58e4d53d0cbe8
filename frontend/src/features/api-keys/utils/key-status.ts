import type { ApiKeyPublic } from "@/client";

export type ApiKeyStatus = "active" | "expired" | "revoked";

/** Whether a key still works: revoked wins over expired. */
export function keyStatus(
  key: Pick<ApiKeyPublic, "expires_at" | "revoked_at">,
  now: Date = new Date(),
): ApiKeyStatus {
  if (key.revoked_at) return "revoked";
  if (key.expires_at && new Date(key.expires_at).getTime() <= now.getTime()) return "expired";
  return "active";
}

/** "Mar 3, 2027": a day is precise enough for creation and expiry. */
export function formatDay(iso: string | null, empty = "Never"): string {
  if (!iso) return empty;
  return new Date(iso).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}
