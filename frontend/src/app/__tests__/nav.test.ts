import { describe, expect, it } from "vitest";
import { buildNav } from "../nav";

const labels = (options: Parameters<typeof buildNav>[0]) => buildNav(options).map((item) => item.label);

describe("buildNav", () => {
  it("shows the agent pages when the agent is enabled", () => {
    expect(labels({ isSuperuser: false, enableAgent: true })).toEqual([
      "Dashboard",
      "Items",
      "Agent chat",
      "Run history",
      "User settings",
    ]);
  });

  it("adds evaluations and admin for superusers", () => {
    expect(labels({ isSuperuser: true, enableAgent: true })).toEqual([
      "Dashboard",
      "Items",
      "Agent chat",
      "Run history",
      "Evaluations",
      "Admin",
      "User settings",
    ]);
  });

  it("hides every agent page when VITE_ENABLE_AGENT is false", () => {
    expect(labels({ isSuperuser: true, enableAgent: false })).toEqual([
      "Dashboard",
      "Items",
      "Admin",
      "User settings",
    ]);
  });
});
