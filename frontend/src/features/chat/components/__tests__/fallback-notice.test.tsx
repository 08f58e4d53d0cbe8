import { screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { renderWithRouter } from "@/testing/render-with-router";
import { FallbackNotice } from "../fallback-notice";

vi.mock("../../api/get-agent-config", () => ({
  useAgentConfig: () => ({ data: { model_name: "gpt-4o-mini" } }),
}));

describe("FallbackNotice", () => {
  it("says when a fallback model answered", async () => {
    await renderWithRouter(<FallbackNotice model="claude-3-5-haiku-latest" />);
    expect(await screen.findByTestId("fallback-notice")).toHaveTextContent(
      "Answered by the fallback model (claude-3-5-haiku-latest)",
    );
  });

  it("stays silent when the primary answered or nothing did", async () => {
    await renderWithRouter(
      <>
        <FallbackNotice model="gpt-4o-mini" />
        <FallbackNotice model={null} />
        <span>rendered</span>
      </>,
    );
    expect(await screen.findByText("rendered")).toBeInTheDocument();
    expect(screen.queryByTestId("fallback-notice")).toBeNull();
  });
});
