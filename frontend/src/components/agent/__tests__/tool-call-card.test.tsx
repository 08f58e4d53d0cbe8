import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ToolCallCard, type ToolCallProps } from "../tool-call-card";

const call = (extra: Partial<ToolCallProps>): ToolCallProps => ({
  id: "c1",
  name: "http_post",
  args: {},
  ...extra,
});

function statusOf(props: Parameters<typeof ToolCallCard>[0]) {
  render(<ToolCallCard {...props} />);
  const card = screen.getByTestId("tool-call");
  return { attribute: card.getAttribute("data-status"), text: card.textContent ?? "" };
}

describe("ToolCallCard status", () => {
  it("shows the backend's status over what `ok` alone would say", () => {
    // A refused call has ok=false, like a failure: the backend's status tells them apart.
    const shown = statusOf({ call: call({ output: '{"error": "refused"}', ok: false, status: "rejected" }) });
    expect(shown.attribute).toBe("rejected");
    expect(shown.text).toContain("rejected");
    expect(shown.text).not.toContain("failed");
  });

  it("shows failed", () => {
    expect(statusOf({ call: call({ output: "{}", ok: false, status: "failed" }) }).attribute).toBe("failed");
  });

  it("falls back to `ok` for records without a status", () => {
    expect(statusOf({ call: call({ output: "{}", ok: true }) }).attribute).toBe("done");
  });

  it("a call without a result is running, awaiting approval or has no result", () => {
    expect(statusOf({ call: call({ status: "pending" }), live: true }).attribute).toBe("running");
  });

  it("awaiting approval while paused", () => {
    const shown = statusOf({ call: call({ status: "pending" }), live: false, awaitingApproval: true });
    expect(shown.attribute).toBe("awaiting_approval");
    expect(shown.text).toContain("awaiting approval");
  });

  it("no result once the run has ended", () => {
    expect(statusOf({ call: call({}), live: false }).attribute).toBe("no_result");
  });
});
