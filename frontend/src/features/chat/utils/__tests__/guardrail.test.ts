import { describe, expect, it } from "vitest";
import { guardrailNotice } from "../guardrail";

describe("guardrailNotice", () => {
  it("reads the rule and the reason from the run's error", () => {
    expect(
      guardrailNotice("Blocked by the no_pod_bay guardrail: The message was blocked by the content policy."),
    ).toEqual({ rule: "no_pod_bay", reason: "The message was blocked by the content policy." });
    expect(
      guardrailNotice("Blocked by the input_too_long guardrail: The message is longer than 5 characters."),
    ).toEqual({ rule: "input_too_long", reason: "The message is longer than 5 characters." });
  });

  it("keeps a message in another shape as the reason, without a rule", () => {
    expect(guardrailNotice("Refused by moderation")).toEqual({ rule: null, reason: "Refused by moderation" });
    expect(guardrailNotice(undefined)).toEqual({ rule: null, reason: "" });
  });
});
