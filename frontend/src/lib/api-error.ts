/** An error answer from the API: HTTP status, `detail` (a string or a 422 list) and `code`. */
export class ApiError extends Error {
  readonly status: number;
  readonly detail: unknown;
  /** The API's stable error code (`not_found`, `already_exists`, ...); null for 422 lists. */
  readonly code: string | null;

  constructor(status: number, body: unknown) {
    super(detailMessage(body) ?? `Request failed (${status || "network error"})`);
    this.name = "ApiError";
    this.status = status;
    this.detail = typeof body === "object" && body !== null && "detail" in body ? body.detail : body;
    this.code =
      typeof body === "object" && body !== null && "code" in body && typeof body.code === "string"
        ? body.code
        : null;
  }
}

type ValidationItem = { loc?: unknown[]; msg?: string };

function detailMessage(body: unknown): string | null {
  if (typeof body !== "object" || body === null || !("detail" in body)) {
    return typeof body === "string" && body ? body : null;
  }
  const { detail } = body;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item: ValidationItem) => {
        const field = item.loc?.filter((part) => part !== "body").join(".");
        return field ? `${field}: ${item.msg}` : item.msg;
      })
      .join("; ");
  }
  return null;
}

/** A message fit to show a user, whatever was thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return detailMessage(error) ?? "Something went wrong";
}
