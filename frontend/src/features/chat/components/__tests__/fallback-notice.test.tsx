import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { FallbackNotice } from "../fallback-notice";

describe("FallbackNotice", () => {
  it("says when a fallback model answered, and why", () => {
    render(
      <FallbackNotice
        run={{ mode: "degraded", degraded_reason: "breaker_open", model: "claude-3-5-haiku-latest" }}
      />,
    );
    expect(screen.getByTestId("fallback-notice")).toHaveTextContent(
      "Answered by the fallback model (claude-3-5-haiku-latest): the primary model is unavailable right now.",
    );
  });

  it("stays silent on a normal run or when there is no run yet", () => {
    render(
      <>
        <FallbackNotice run={{ mode: "normal", degraded_reason: null, model: "gpt-4o-mini" }} />
        <FallbackNotice run={undefined} />
        <span>rendered</span>
      </>,
    );
    expect(screen.getByText("rendered")).toBeInTheDocument();
    expect(screen.queryByTestId("fallback-notice")).toBeNull();
  });
});
