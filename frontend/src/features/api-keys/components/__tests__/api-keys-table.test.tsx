import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { ApiKeyPublic } from "@/client";
import { ApiKeysTable } from "../api-keys-table";

const now = new Date("2027-01-10T12:00:00Z");
const base = {
  created_at: "2027-01-01T09:00:00Z",
  expires_at: null,
  last_used_at: null,
  revoked_at: null,
};
const keys: ApiKeyPublic[] = [
  { ...base, id: "k1", name: "laptop", prefix: "fsk_aaaaaaaa", last_used_at: "2027-01-09T10:00:00Z" },
  { ...base, id: "k2", name: "old ci", prefix: "fsk_bbbbbbbb", expires_at: "2027-01-05T00:00:00Z" },
  { ...base, id: "k3", name: "leaked", prefix: "fsk_cccccccc", revoked_at: "2027-01-08T00:00:00Z" },
];

function row(name: string): HTMLElement {
  const cell = screen.getByRole("cell", { name });
  const found = cell.closest("tr");
  if (!found) throw new Error(`no row for ${name}`);
  return found;
}

describe("ApiKeysTable", () => {
  it("shows each key's name, first characters and status, never more of the key", () => {
    render(<ApiKeysTable keys={keys} onRevoke={vi.fn()} now={now} />);
    expect(within(row("laptop")).getByText("fsk_aaaaaaaa…")).toBeInTheDocument();
    expect(within(row("laptop")).getByText("Active")).toBeInTheDocument();
    expect(within(row("old ci")).getByText("Expired")).toBeInTheDocument();
    expect(within(row("leaked")).getByText("Revoked")).toBeInTheDocument();
    // No expiry and never used read as "Never".
    expect(within(row("leaked")).getAllByText("Never")).toHaveLength(2);
    expect(within(row("laptop")).getAllByText("Never")).toHaveLength(1);
  });

  it("offers Revoke only for live keys and hands over the key", async () => {
    const onRevoke = vi.fn();
    const user = userEvent.setup();
    render(<ApiKeysTable keys={keys} onRevoke={onRevoke} now={now} />);
    expect(screen.getAllByRole("button", { name: /^Revoke/ })).toHaveLength(1);
    await user.click(screen.getByRole("button", { name: "Revoke laptop" }));
    expect(onRevoke).toHaveBeenCalledWith(keys[0]);
  });
});
