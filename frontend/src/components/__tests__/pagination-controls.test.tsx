import { render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { PaginationControls } from "../pagination-controls";

describe("PaginationControls", () => {
  it("pages by count when the server gives an exact one", () => {
    render(<PaginationControls page={2} pageSize={20} count={45} onPageChange={vi.fn()} />);
    expect(screen.getByText("21–40 of 45")).toBeInTheDocument();
    expect(screen.getByText("Page 2 of 3")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Next page" })).toBeEnabled();
  });

  it("says an estimated count is one, and follows the server on whether more pages exist", () => {
    const { rerender } = render(
      <PaginationControls
        page={3}
        pageSize={20}
        count={5000}
        countIsEstimate
        hasNext
        onPageChange={vi.fn()}
      />,
    );
    expect(screen.getByText("41–60 of about 5000")).toBeInTheDocument();
    expect(screen.getByText("Page 3 of about 250")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Next page" })).toBeEnabled();
    rerender(
      <PaginationControls
        page={3}
        pageSize={20}
        count={5000}
        countIsEstimate
        hasNext={false}
        onPageChange={vi.fn()}
      />,
    );
    expect(screen.getByRole("button", { name: "Next page" })).toBeDisabled();
  });
});
