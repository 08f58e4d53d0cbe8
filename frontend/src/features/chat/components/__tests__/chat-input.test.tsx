import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ChatInput } from "../chat-input";

function setup(props: Partial<Parameters<typeof ChatInput>[0]> = {}) {
  const onSend = vi.fn();
  const onStop = vi.fn();
  render(<ChatInput onSend={onSend} onStop={onStop} streaming={false} maxChars={20} {...props} />);
  return { onSend, onStop, input: screen.getByLabelText("Message the agent"), user: userEvent.setup() };
}

describe("ChatInput", () => {
  it("sends on Enter and clears the box", async () => {
    const { onSend, input, user } = setup();
    await user.type(input, "show my items{Enter}");
    expect(onSend).toHaveBeenCalledWith("show my items");
    expect(input).toHaveValue("");
  });

  it("adds a line on Shift+Enter without sending", async () => {
    const { onSend, input, user } = setup();
    await user.type(input, "one{Shift>}{Enter}{/Shift}two");
    expect(input).toHaveValue("one\ntwo");
    expect(onSend).not.toHaveBeenCalled();
  });

  it("does not send blank messages", async () => {
    const { onSend, input, user } = setup();
    await user.type(input, "   {Enter}");
    expect(onSend).not.toHaveBeenCalled();
    expect(screen.getByRole("button", { name: "Send" })).toBeDisabled();
  });

  it("counts characters against the limit and refuses longer messages", async () => {
    const { onSend, input, user } = setup();
    await user.type(input, "0123456789");
    expect(screen.getByText("10 / 20 characters")).toBeInTheDocument();
    await user.type(input, "0123456789X{Enter}");
    expect(screen.getByText(/21 \/ 20 characters — too long/)).toBeInTheDocument();
    expect(input).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByRole("button", { name: "Send" })).toBeDisabled();
    expect(onSend).not.toHaveBeenCalled();
  });

  it("shows Stop instead of Send while an answer streams", async () => {
    const { onStop, onSend, input, user } = setup({ streaming: true });
    expect(screen.queryByRole("button", { name: "Send" })).toBeNull();
    await user.type(input, "next{Enter}");
    expect(onSend).not.toHaveBeenCalled();
    await user.click(screen.getByRole("button", { name: "Stop" }));
    expect(onStop).toHaveBeenCalledOnce();
  });

  it("puts a draft back in the box once per draft id", async () => {
    const onSend = vi.fn();
    const props = { onSend, onStop: vi.fn(), streaming: false };
    const { rerender } = render(<ChatInput {...props} draft={{ id: "a1", text: "open the doors" }} />);
    const input = screen.getByLabelText("Message the agent");
    expect(input).toHaveValue("open the doors");
    const user = userEvent.setup();
    await user.type(input, " please");
    rerender(<ChatInput {...props} draft={{ id: "a1", text: "open the doors" }} />);
    expect(input).toHaveValue("open the doors please");
    rerender(<ChatInput {...props} draft={{ id: "a2", text: "something else" }} />);
    expect(input).toHaveValue("something else");
  });
});
