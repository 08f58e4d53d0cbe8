import { describe, expect, it } from "vitest";
import { formatDay, keyStatus } from "../key-status";

const now = new Date("2027-01-10T12:00:00Z");

describe("keyStatus", () => {
  it("is active without expiry or before it", () => {
    expect(keyStatus({ expires_at: null, revoked_at: null }, now)).toBe("active");
    expect(keyStatus({ expires_at: "2027-01-10T12:00:01Z", revoked_at: null }, now)).toBe("active");
  });

  it("is expired from the expiry on", () => {
    expect(keyStatus({ expires_at: "2027-01-10T12:00:00Z", revoked_at: null }, now)).toBe("expired");
  });

  it("is revoked whatever the expiry", () => {
    expect(keyStatus({ expires_at: "2026-01-01T00:00:00Z", revoked_at: "2025-12-01T00:00:00Z" }, now)).toBe(
      "revoked",
    );
  });
});

describe("formatDay", () => {
  it("says Never (or the given word) for no date", () => {
    expect(formatDay(null)).toBe("Never");
    expect(formatDay(null, "—")).toBe("—");
  });

  it("shows the year, so an expiry years ahead reads right", () => {
    expect(formatDay("2030-06-15T12:00:00Z")).toContain("2030");
  });
});
