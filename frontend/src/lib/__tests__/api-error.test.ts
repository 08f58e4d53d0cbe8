import { describe, expect, it } from "vitest";
import { ApiError, errorMessage } from "../api-error";
import { safeRedirect } from "../safe-redirect";
import { isSessionError } from "../session";

describe("ApiError", () => {
  it("uses FastAPI's string detail as the message", () => {
    const error = new ApiError(400, { detail: "Incorrect email or password" });
    expect(error.message).toBe("Incorrect email or password");
    expect(error.status).toBe(400);
    expect(error.code).toBeNull();
  });

  it("keeps the API's error code beside the detail", () => {
    const error = new ApiError(409, {
      detail: "The user with this email already exists",
      code: "already_exists",
    });
    expect(error.message).toBe("The user with this email already exists");
    expect(error.code).toBe("already_exists");
  });

  it("joins 422 validation errors with their field", () => {
    const error = new ApiError(422, {
      detail: [
        {
          loc: ["body", "password"],
          msg: "String should have at least 8 characters",
          type: "string_too_short",
        },
        {
          loc: ["query", "limit"],
          msg: "Input should be less than or equal to 200",
          type: "less_than_equal",
        },
      ],
    });
    expect(error.message).toBe(
      "password: String should have at least 8 characters; query.limit: Input should be less than or equal to 200",
    );
  });

  it("falls back to the status when there is no detail", () => {
    expect(new ApiError(502, null).message).toBe("Request failed (502)");
    expect(new ApiError(0, undefined).message).toBe("Request failed (network error)");
    expect(errorMessage("plain text")).toBe("plain text");
    expect(errorMessage({ unexpected: 1 })).toBe("Something went wrong");
  });
});

describe("isSessionError", () => {
  it("recognises an invalid or missing token, not a permission error", () => {
    expect(isSessionError(401, "Not authenticated")).toBe(true);
    expect(isSessionError(403, "Could not validate credentials")).toBe(true);
    expect(isSessionError(403, "The user doesn't have enough privileges")).toBe(false);
    expect(isSessionError(404, "Not found")).toBe(false);
  });
});

describe("safeRedirect", () => {
  it("follows local paths only", () => {
    expect(safeRedirect("/items?page=2")).toBe("/items?page=2");
    expect(safeRedirect("//evil.example")).toBe("/");
    expect(safeRedirect("/\\evil.example")).toBe("/");
    expect(safeRedirect("https://evil.example")).toBe("/");
    expect(safeRedirect(undefined, "/chat")).toBe("/chat");
  });
});
