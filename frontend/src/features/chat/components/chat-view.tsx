import { BotIcon } from "lucide-react";
import { useEffect, useRef } from "react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Skeleton } from "@/components/ui/skeleton";
import { useAgentConfig } from "../api/get-agent-config";
import type { useAgentChat } from "../hooks/use-agent-chat";
import { BLOCKED_STATUS, FAILED_STATUSES } from "../utils/turns";
import { ChatInput } from "./chat-input";
import { AssistantMessage, UserMessage } from "./chat-message";
import { ToolList } from "./tool-list";

const SUGGESTIONS = ["show my items", "who is admin@example.com?"];

type ChatViewProps = {
  chat: ReturnType<typeof useAgentChat>;
  /** The conversation's history is still loading. */
  loading?: boolean;
  /** Loading it failed (e.g. not found). */
  loadError?: string | null;
};

/** The message log and the input. */
export function ChatView({ chat, loading, loadError }: ChatViewProps) {
  const config = useAgentConfig();
  const endRef = useRef<HTMLDivElement>(null);
  const lastTurn = chat.turns.at(-1);
  const lastLength = lastTurn?.kind === "assistant" ? lastTurn.text.length + lastTurn.toolCalls.length : 0;
  // Only the latest answer can be retried: once retried, an older failure is history.
  const retryable =
    lastTurn?.kind === "assistant" && FAILED_STATUSES.includes(lastTurn.status) && !chat.streaming
      ? lastTurn
      : undefined;

  // A refused message goes back into the box to be edited (a Retry would be refused again).
  const blocked =
    lastTurn?.kind === "assistant" && lastTurn.status === BLOCKED_STATUS && !chat.streaming
      ? { id: lastTurn.id, text: lastTurn.prompt }
      : undefined;

  // Follow the answer as it grows.
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll when the content changes
  useEffect(() => {
    endRef.current?.scrollIntoView?.({ block: "end" });
  }, [chat.turns.length, lastLength]);

  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <div
        className="min-h-0 flex-1 overflow-y-auto"
        role="log"
        aria-label="Conversation"
        aria-busy={chat.streaming}
      >
        <div className="mx-auto grid max-w-3xl grid-cols-[minmax(0,1fr)] gap-4 px-1 py-4">
          {loading ? (
            <>
              <Skeleton className="ml-auto h-10 w-1/2" />
              <Skeleton className="h-24 w-3/4" />
            </>
          ) : loadError ? (
            <Alert variant="destructive">
              <AlertDescription>{loadError}</AlertDescription>
            </Alert>
          ) : chat.turns.length === 0 ? (
            <div className="flex flex-col items-center gap-3 py-16 text-center">
              <BotIcon className="size-10 text-muted-foreground" aria-hidden />
              <h2 className="text-lg font-semibold">What can I help with?</h2>
              <p className="max-w-md text-sm text-muted-foreground">
                {config.data
                  ? `Model: ${config.data.model_name} (${config.data.model_provider}).`
                  : "The agent plans, calls tools and answers."}
              </p>
              <div className="flex flex-wrap justify-center gap-2">
                {SUGGESTIONS.map((text) => (
                  <button
                    key={text}
                    type="button"
                    onClick={() => void chat.send(text)}
                    className="rounded-full border px-3 py-1 text-sm outline-none hover:bg-accent focus-visible:ring-[3px] focus-visible:ring-ring/50"
                  >
                    {text}
                  </button>
                ))}
              </div>
              <ToolList groups={config.data?.tool_groups ?? []} />
            </div>
          ) : (
            chat.turns.map((turn) =>
              turn.kind === "user" ? (
                <UserMessage key={turn.id} turn={turn} />
              ) : (
                <AssistantMessage
                  key={turn.id}
                  turn={turn}
                  onRetry={turn === retryable ? () => void chat.send(turn.prompt) : undefined}
                  onDecide={chat.streaming ? undefined : (decision) => void chat.decide(turn.id, decision)}
                />
              ),
            )
          )}
          <div ref={endRef} />
        </div>
      </div>
      <div className="mx-auto w-full max-w-3xl pt-2">
        <ChatInput
          onSend={(message) => void chat.send(message)}
          onStop={chat.stop}
          streaming={chat.streaming}
          maxChars={config.data?.max_input_chars}
          draft={blocked}
          disabled={loading || Boolean(loadError)}
        />
      </div>
    </div>
  );
}
