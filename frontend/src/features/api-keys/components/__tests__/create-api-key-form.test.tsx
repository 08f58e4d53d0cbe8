import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "@/lib/api-error";
import { CreateApiKeyForm } from "../create-api-key-form";

describe("CreateApiKeyForm", () => {
  it("creates a key expiring in 30 days unless told otherwise, then clears the name", async () => {
    const onSubmit = vi.fn().mockResolvedValue(undefined);
    const user = userEvent.setup();
    render(<CreateApiKeyForm onSubmit={onSubmit} />);
    await user.type(screen.getByLabelText("Key name"), "  laptop  ");
    await user.click(screen.getByRole("button", { name: "Create key" }));
    expect(onSubmit).toHaveBeenCalledWith({ name: "laptop", expires_in_days: 30 });
    expect(screen.getByLabelText("Key name")).toHaveValue("");
  });

  it("sends no expiry when 'No expiry' is picked, and a year as 365 days", async () => {
    const onSubmit = vi.fn().mockResolvedValue(undefined);
    const user = userEvent.setup();
    render(<CreateApiKeyForm onSubmit={onSubmit} />);
    await user.type(screen.getByLabelText("Key name"), "ci");
    await user.selectOptions(screen.getByLabelText("Expires after"), "No expiry");
    await user.click(screen.getByRole("button", { name: "Create key" }));
    expect(onSubmit).toHaveBeenLastCalledWith({ name: "ci", expires_in_days: null });
    await user.type(screen.getByLabelText("Key name"), "yearly");
    await user.selectOptions(screen.getByLabelText("Expires after"), "1 year");
    await user.click(screen.getByRole("button", { name: "Create key" }));
    expect(onSubmit).toHaveBeenLastCalledWith({ name: "yearly", expires_in_days: 365 });
  });

  it("refuses an empty or too long name without calling the API", async () => {
    const onSubmit = vi.fn();
    const user = userEvent.setup();
    render(<CreateApiKeyForm onSubmit={onSubmit} />);
    await user.click(screen.getByRole("button", { name: "Create key" }));
    expect(screen.getByRole("alert")).toHaveTextContent("Name is required");
    await user.click(screen.getByLabelText("Key name"));
    await user.paste("x".repeat(101));
    await user.click(screen.getByRole("button", { name: "Create key" }));
    expect(screen.getByRole("alert")).toHaveTextContent("At most 100 characters");
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it("shows the API's refusal (e.g. too many keys) and keeps the name", async () => {
    const detail = "You already have 20 active API keys, the most allowed; revoke one first.";
    const onSubmit = vi.fn().mockRejectedValue(new ApiError(409, { detail, code: "api_key_limit" }));
    const user = userEvent.setup();
    render(<CreateApiKeyForm onSubmit={onSubmit} />);
    await user.type(screen.getByLabelText("Key name"), "one too many");
    await user.click(screen.getByRole("button", { name: "Create key" }));
    expect(await screen.findByText(detail)).toBeInTheDocument();
    expect(screen.getByLabelText("Key name")).toHaveValue("one too many");
  });
});
