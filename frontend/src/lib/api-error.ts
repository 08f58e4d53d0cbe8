/** An error answer from the API: HTTP status plus FastAPI's `detail` (a string or a 422 list). */
export class ApiError extends Error {
  readonly status: number;
  readonly detail: unknown;

  constructor(status: number, body: unknown) {
    super(detailMessage(body) ?? `Request failed (${status || "network error"})`);
    this.name = "ApiError";
    this.status = status;
    this.detail = typeof body === "object" && body !== null && "detail" in body ? body.detail : body;
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
