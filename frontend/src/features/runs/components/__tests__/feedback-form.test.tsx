import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { AgentFeedbackPublic } from "@/client";
import { FeedbackForm } from "../feedback-form";

const METRICS = [
  { name: "hallucination", description: "Unsupported claims" },
  { name: "toxicity", description: "Hostile language" },
];

function saved(overrides: Partial<AgentFeedbackPublic>): AgentFeedbackPublic {
  return {
    id: "f1",
    run_id: "r1",
    user_id: "u1",
    score: -1,
    comment: null,
    labels: null,
    created_at: "2026-12-01T10:00:00Z",
    updated_at: "2026-12-01T10:00:00Z",
    ...overrides,
  };
}

describe("FeedbackForm", () => {
  it("asks what was wrong only under a thumbs-down and sends each ticked metric as a fail label", async () => {
    const onSave = vi.fn();
    const user = userEvent.setup();
    render(<FeedbackForm saved={null} metrics={METRICS} pending={false} onSave={onSave} />);
    expect(screen.queryByText("What was wrong? (optional)")).not.toBeInTheDocument();

    await user.type(screen.getByLabelText("Comment (optional)"), "  made up a number ");
    await user.click(screen.getByRole("button", { name: "Not helpful" }));
    expect(onSave).toHaveBeenLastCalledWith({ score: -1, comment: "made up a number" });
    expect(screen.getByText("What was wrong? (optional)")).toBeInTheDocument();

    await user.click(screen.getByRole("checkbox", { name: "hallucination" }));
    expect(onSave).toHaveBeenLastCalledWith({
      score: -1,
      comment: "made up a number",
      labels: { hallucination: "fail" },
    });
    await user.click(screen.getByRole("checkbox", { name: "toxicity" }));
    await user.click(screen.getByRole("checkbox", { name: "hallucination" }));
    expect(onSave).toHaveBeenLastCalledWith({
      score: -1,
      comment: "made up a number",
      labels: { toxicity: "fail" },
    });
  });

  it("shows saved labels ticked, and a thumbs-up takes them back", async () => {
    const onSave = vi.fn();
    const user = userEvent.setup();
    render(
      <FeedbackForm
        saved={saved({ labels: { toxicity: "fail", hallucination: "pass" }, comment: "rude" })}
        metrics={METRICS}
        pending={false}
        onSave={onSave}
      />,
    );
    expect(screen.getByRole("checkbox", { name: "toxicity" })).toBeChecked();
    expect(screen.getByRole("checkbox", { name: "hallucination" })).not.toBeChecked();

    await user.click(screen.getByRole("button", { name: "Helpful" }));
    expect(onSave).toHaveBeenLastCalledWith({ score: 1, comment: "rude", labels: {} });
    expect(screen.queryByText("What was wrong? (optional)")).not.toBeInTheDocument();
  });

  it("sends no labels with a thumbs-up when none are ticked, and disables everything while saving", async () => {
    const onSave = vi.fn();
    const user = userEvent.setup();
    const { rerender } = render(
      <FeedbackForm saved={null} metrics={METRICS} pending={false} onSave={onSave} />,
    );
    await user.click(screen.getByRole("button", { name: "Helpful" }));
    expect(onSave).toHaveBeenLastCalledWith({ score: 1, comment: null });

    rerender(<FeedbackForm saved={saved({ score: -1 })} metrics={METRICS} pending onSave={onSave} />);
    expect(screen.getByRole("button", { name: "Helpful" })).toBeDisabled();
    expect(screen.getByRole("checkbox", { name: "toxicity" })).toBeDisabled();
  });

  it("leaves the question out when no metric is known", async () => {
    const user = userEvent.setup();
    render(<FeedbackForm saved={null} metrics={[]} pending={false} onSave={vi.fn()} />);
    await user.click(screen.getByRole("button", { name: "Not helpful" }));
    expect(screen.queryByText("What was wrong? (optional)")).not.toBeInTheDocument();
  });
});
