import { SendIcon, SquareIcon } from "lucide-react";
import { useEffect, useId, useState } from "react";
import { Button } from "@/components/ui/button";
import { Textarea } from "@/components/ui/textarea";
import { cn } from "@/lib/utils";

type ChatInputProps = {
  onSend: (message: string) => void;
  onStop: () => void;
  streaming: boolean;
  maxChars?: number;
  disabled?: boolean;
  /** Text to put back in the box (e.g. a message a guardrail refused); applied once per `id`. */
  draft?: { id: string; text: string };
  /** Keep what is typed in sessionStorage under this key (it survives a reload or reconnect). */
  storageKey?: string;
};

function stored(key: string | undefined): string {
  try {
    return (key && globalThis.sessionStorage?.getItem(key)) || "";
  } catch {
    return ""; // storage disabled
  }
}

function store(key: string | undefined, value: string): void {
  if (!key) return;
  try {
    if (value) globalThis.sessionStorage?.setItem(key, value);
    else globalThis.sessionStorage?.removeItem(key);
  } catch {
    // storage full or disabled: the draft only lives in the page
  }
}

/** The message box: Enter sends, Shift+Enter adds a line; shows the length against the limit. */
export function ChatInput({
  onSend,
  onStop,
  streaming,
  maxChars,
  disabled,
  draft,
  storageKey,
}: ChatInputProps) {
  const [value, setStateValue] = useState(() => stored(storageKey));
  const setValue = (next: string) => {
    setStateValue(next);
    store(storageKey, next);
  };
  const id = useId();
  const draftId = draft?.id;
  const draftText = draft?.text;
  // biome-ignore lint/correctness/useExhaustiveDependencies: applied once per draft id
  useEffect(() => {
    if (draftId !== undefined && draftText !== undefined) setValue(draftText);
  }, [draftId, draftText]);
  const length = value.length;
  const tooLong = maxChars !== undefined && length > maxChars;
  const canSend = !streaming && !disabled && value.trim().length > 0 && !tooLong;

  const submit = () => {
    if (!canSend) return;
    onSend(value);
    setValue("");
  };

  return (
    <form
      className="grid gap-1.5"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      <label htmlFor={id} className="sr-only">
        Message the agent
      </label>
      <div className="flex items-end gap-2 rounded-xl border bg-background p-2 shadow-xs focus-within:ring-[3px] focus-within:ring-ring/50">
        <Textarea
          id={id}
          value={value}
          onChange={(event) => setValue(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
              event.preventDefault();
              submit();
            }
          }}
          placeholder="Ask the agent… (Enter to send, Shift+Enter for a new line)"
          rows={1}
          // The chat is for typing: the box has the focus when the page opens.
          autoFocus
          aria-describedby={`${id}-count`}
          aria-invalid={tooLong}
          className="max-h-48 min-h-10 resize-none border-0 bg-transparent shadow-none focus-visible:ring-0 dark:bg-transparent"
        />
        {streaming ? (
          <Button type="button" variant="destructive" size="icon" onClick={onStop} aria-label="Stop">
            <SquareIcon />
          </Button>
        ) : (
          <Button type="submit" size="icon" disabled={!canSend} aria-label="Send">
            <SendIcon />
          </Button>
        )}
      </div>
      <p
        id={`${id}-count`}
        role={tooLong ? "alert" : undefined}
        className={cn("text-right text-xs tabular-nums text-muted-foreground", tooLong && "text-destructive")}
      >
        {maxChars !== undefined
          ? `${length.toLocaleString()} / ${maxChars.toLocaleString()} characters`
          : `${length} characters`}
        {tooLong && maxChars !== undefined
          ? ` — too long: shorten it by ${(length - maxChars).toLocaleString()} to send`
          : ""}
      </p>
    </form>
  );
}
