import { BotIcon, WifiOffIcon } from "lucide-react";
import { type ReactNode, useEffect, useRef } from "react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Skeleton } from "@/components/ui/skeleton";
import { useCurrentUser } from "@/lib/auth";
import { useAgentConfig } from "../api/get-agent-config";
import type { ChatStream } from "../hooks/use-chat-stream";
import { BLOCKED_STATUS, FAILED_STATUSES } from "../utils/conversation";
import type { ChatFailure } from "../utils/failure";
import { ChatInput } from "./chat-input";
import { AssistantMessage, UserMessage } from "./chat-message";
import { ToolList } from "./tool-list";

const SUGGESTIONS = ["show my items", "who is admin@example.com?"];

type ChatViewProps = {
  chat: ChatStream;
  /** The conversation's history is still loading. */
  loading?: boolean;
  /** Loading it failed (e.g. not found). */
  loadError?: string | null;
  /** The server can't be reached: one message, and the chat reconnects by itself. */
  outage?: boolean;
  /** Thumbs up/down with a comment for a run (the route passes the run-detail page's form). */
  feedback?: (runId: string) => ReactNode;
  /** Where the message box keeps what is typed (per conversation). */
  draftKey?: string;
};

function FailureNotice({ failure }: { failure: ChatFailure }) {
  return (
    <Alert
      variant={failure.kind === "busy" ? "default" : "destructive"}
      data-testid="chat-failure"
      data-kind={failure.kind}
    >
      <AlertDescription>{failure.message}</AlertDescription>
    </Alert>
  );
}

/** The message log and the input. */
export function ChatView({ chat, loading, loadError, outage, feedback, draftKey }: ChatViewProps) {
  const config = useAgentConfig();
  const me = useCurrentUser();
  const maxChars = config.data?.max_input_chars;
  const endRef = useRef<HTMLDivElement>(null);
  const { turns } = chat;
  const busy = chat.loading;
  const lastTurn = turns.at(-1);
  const lastLength = lastTurn?.kind === "assistant" ? lastTurn.text.length + lastTurn.toolCalls.length : 0;
  // Only the latest answer can be retried: once retried, an older failure is history.
  const retryable =
    lastTurn?.kind === "assistant" && FAILED_STATUSES.includes(lastTurn.status) && !busy
      ? lastTurn
      : undefined;
  // A run's own error (a rejoined stream ending in `error`) is already on its turn, with a Retry:
  // the general notice would say it twice.
  const notice =
    chat.failure && chat.failure.kind !== "outage" && !(retryable && chat.failure.kind === "refused")
      ? chat.failure
      : null;
  // A refused message goes back into the box to be edited (a Retry would be refused again).
  const blocked =
    lastTurn?.kind === "assistant" && lastTurn.status === BLOCKED_STATUS && !busy
      ? { id: lastTurn.id, text: lastTurn.prompt }
      : undefined;
  const draft = chat.draft ?? blocked;
  const idle = !busy && !outage;

  // Follow the answer as it grows.
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll when the content changes
  useEffect(() => {
    endRef.current?.scrollIntoView?.({ block: "end" });
  }, [turns.length, lastLength]);

  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <div className="min-h-0 flex-1 overflow-y-auto" role="log" aria-label="Conversation" aria-busy={busy}>
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
          ) : turns.length === 0 ? (
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
                    disabled={!idle}
                    className="rounded-full border px-3 py-1 text-sm outline-none hover:bg-accent focus-visible:ring-[3px] focus-visible:ring-ring/50"
                  >
                    {text}
                  </button>
                ))}
              </div>
              <ToolList groups={config.data?.tool_groups ?? []} />
            </div>
          ) : (
            turns.map((turn) => {
              if (turn.kind === "user") {
                const index = turn.messageIndex;
                const branch = index !== undefined ? chat.branchOf(index) : undefined;
                return (
                  <UserMessage
                    key={turn.id}
                    turn={turn}
                    maxChars={maxChars}
                    branch={
                      branch && {
                        current: branch.current,
                        total: branch.options.length,
                        go: (to) => {
                          const option = branch.options[to];
                          if (option !== undefined && idle) chat.setBranch(option);
                        },
                      }
                    }
                    onEdit={
                      idle && index !== undefined && chat.canBranch(index)
                        ? (text) => void chat.edit(index, text)
                        : undefined
                    }
                  />
                );
              }
              const question = turn.questionIndex;
              return (
                <AssistantMessage
                  key={turn.id}
                  turn={turn}
                  feedback={feedback}
                  currentUserId={me.data?.id}
                  onRetry={turn === retryable && idle ? () => void chat.send(turn.prompt) : undefined}
                  onRegenerate={
                    idle && question !== undefined && chat.canBranch(question)
                      ? () => void chat.regenerate(question)
                      : undefined
                  }
                  onDecide={idle ? (id, tool, decision) => void chat.decide(id, tool, decision) : undefined}
                />
              );
            })
          )}
          {outage ? (
            <Alert data-testid="chat-failure" data-kind="outage" role="status">
              <WifiOffIcon aria-hidden />
              <AlertDescription>Can't reach the server. Reconnecting…</AlertDescription>
            </Alert>
          ) : notice ? (
            <FailureNotice failure={notice} />
          ) : null}
          <div ref={endRef} />
        </div>
      </div>
      <div className="mx-auto w-full max-w-3xl pt-2">
        <ChatInput
          onSend={(message) => void chat.send(message)}
          onStop={() => void chat.stop()}
          streaming={busy}
          maxChars={maxChars}
          draft={draft}
          storageKey={draftKey}
          disabled={loading || Boolean(loadError) || outage}
        />
      </div>
    </div>
  );
}
