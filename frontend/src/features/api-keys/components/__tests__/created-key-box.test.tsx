import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { ApiKeyCreated } from "@/client";
import { CreatedKeyBox } from "../created-key-box";

const created: ApiKeyCreated = {
  id: "5f0c1c7e-0000-4000-8000-000000000001",
  name: "laptop",
  prefix: "fsk_abcdefgh",
  key: "fsk_abcdefghIJKLMNOPqrstuvwxyz0123456789-_ABCDEFG",
  created_at: "2027-01-10T12:00:00Z",
  expires_at: null,
  last_used_at: null,
  revoked_at: null,
};

describe("CreatedKeyBox", () => {
  it("shows the whole key once, with the warning and the header to use", () => {
    render(<CreatedKeyBox apiKey={created} onDone={vi.fn()} />);
    const box = screen.getByRole("region", { name: "New API key" });
    expect(screen.getByLabelText("Your new API key")).toHaveValue(created.key);
    expect(box).toHaveTextContent("you won't be able to see it again");
    expect(box).toHaveTextContent("X-Api-Key");
  });

  it("copies the key to the clipboard", async () => {
    const user = userEvent.setup();
    render(<CreatedKeyBox apiKey={created} onDone={vi.fn()} />);
    await user.click(screen.getByRole("button", { name: "Copy" }));
    expect(await navigator.clipboard.readText()).toBe(created.key);
  });

  it("goes away when the user says they saved it", async () => {
    const onDone = vi.fn();
    const user = userEvent.setup();
    render(<CreatedKeyBox apiKey={created} onDone={onDone} />);
    await user.click(screen.getByRole("button", { name: "I've saved it" }));
    expect(onDone).toHaveBeenCalledOnce();
  });
});
