import type { Client } from "@langchain/langgraph-sdk";
import { useQueryClient } from "@tanstack/react-query";
import { createFileRoute, notFound } from "@tanstack/react-router";
import { PanelLeftIcon } from "lucide-react";
import { useMemo, useState } from "react";
import { z } from "zod";
import { Button } from "@/components/ui/button";
import { Sheet, SheetContent, SheetDescription, SheetTitle } from "@/components/ui/sheet";
import { Skeleton } from "@/components/ui/skeleton";
import { env } from "@/config/env";
import { useAgentConfig } from "@/features/chat/api/get-agent-config";
import { protocolClient } from "@/features/chat/api/protocol-client";
import { ChatView } from "@/features/chat/components/chat-view";
import { useChatStream } from "@/features/chat/hooks/use-chat-stream";
import { useReconnect } from "@/features/chat/hooks/use-reconnect";
import { isOutage } from "@/features/chat/utils/failure";
import { useThreadRuns } from "@/features/runs/api/get-runs";
import { RunFeedback } from "@/features/runs/components/run-feedback";
import { useThread } from "@/features/threads/api/get-thread";
import { ThreadsList } from "@/features/threads/components/threads-list";
import { ApiError, errorMessage } from "@/lib/api-error";

export const Route = createFileRoute("/_layout/chat")({
  validateSearch: z.object({ thread: z.uuid().optional().catch(undefined) }),
  beforeLoad: () => {
    if (!env.enableAgent) throw notFound();
  },
  component: ChatPage,
});

/** A request that got no answer from the server (as the generated client reports it). */
const unreachable = (error: unknown) => (error instanceof ApiError && error.status === 0) || isOutage(error);

function ChatPage() {
  const { thread } = Route.useSearch();
  const navigate = Route.useNavigate();
  const [drawerOpen, setDrawerOpen] = useState(false);
  // Bumped when the server is back after an outage: the conversation is read again and a run
  // that is still going is rejoined.
  const [session, setSession] = useState(0);
  const queryClient = useQueryClient();
  const reconnected = () => {
    // Everything the page shows may have changed while the server was away.
    void queryClient.invalidateQueries({ queryKey: ["agent"] });
    setSession((n) => n + 1);
  };
  const config = useAgentConfig();
  const protocolPath = config.data?.protocol_path;
  const client = useMemo(() => (protocolPath ? protocolClient(protocolPath) : null), [protocolPath]);

  const select = (id: string | undefined) => {
    setDrawerOpen(false);
    void navigate({ search: id ? { thread: id } : {} });
  };

  const list = (
    <ThreadsList
      activeThreadId={thread}
      onSelect={(id) => select(id)}
      onNewChat={() => select(undefined)}
      onDeleted={(id) => {
        if (id === thread) select(undefined);
      }}
    />
  );

  return (
    <div className="-my-2 flex h-[calc(100dvh-3.5rem-1.5rem)] min-h-0 gap-4 md:h-[calc(100dvh-3.5rem-2.5rem)]">
      <aside className="hidden w-64 shrink-0 flex-col lg:flex">{list}</aside>
      <Sheet open={drawerOpen} onOpenChange={setDrawerOpen}>
        <SheetContent side="left" className="w-72 p-4 pt-12">
          <SheetTitle className="sr-only">Conversations</SheetTitle>
          <SheetDescription className="sr-only">Open, start or delete a conversation</SheetDescription>
          {list}
        </SheetContent>
      </Sheet>
      <section className="flex min-w-0 flex-1 flex-col" aria-label="Agent chat">
        <div className="flex items-center gap-2">
          <Button variant="outline" size="sm" className="lg:hidden" onClick={() => setDrawerOpen(true)}>
            <PanelLeftIcon /> Conversations
          </Button>
          <h1 className="text-lg font-semibold">Agent chat</h1>
        </div>
        {client ? (
          <ChatSession
            key={session}
            client={client}
            thread={thread}
            onThreadId={(id) => void navigate({ search: { thread: id }, replace: true })}
            onReconnected={reconnected}
          />
        ) : (
          <ConfigPending error={config.error} onReconnected={() => void config.refetch()} />
        )}
      </section>
    </div>
  );
}

/** Before the agent's config has loaded (or while it can't be). */
function ConfigPending({ error, onReconnected }: { error: unknown; onReconnected: () => void }) {
  const outage = useReconnect(Boolean(error) && unreachable(error), onReconnected);
  if (!error) return <Skeleton className="mt-4 h-24 w-3/4" />;
  return (
    <p role="status" className="mt-4 text-sm text-muted-foreground">
      {outage ? "Can't reach the server. Reconnecting…" : errorMessage(error)}
    </p>
  );
}

type ChatSessionProps = {
  client: Client;
  thread: string | undefined;
  onThreadId: (id: string) => void;
  onReconnected: () => void;
};

/** One conversation, streamed with the LangGraph SDK; remounted after an outage. */
function ChatSession({ client, thread, onThreadId, onReconnected }: ChatSessionProps) {
  const detail = useThread(thread);
  const runs = useThreadRuns(thread);
  const chat = useChatStream({ client, threadId: thread, onThreadId, runs: runs.data?.data });
  const down =
    chat.failure?.kind === "outage" ||
    (detail.isError && unreachable(detail.error)) ||
    (runs.isError && unreachable(runs.error));
  const outage = useReconnect(down, onReconnected);

  const loadError =
    detail.isError && !unreachable(detail.error)
      ? detail.error instanceof ApiError && detail.error.status === 404
        ? "Conversation not found."
        : errorMessage(detail.error)
      : null;
  // A new conversation has nothing to load; an opened one waits for its checkpoints.
  const loading =
    Boolean(thread) &&
    !outage &&
    !loadError &&
    chat.threadLoading &&
    !chat.loading &&
    chat.turns.length === 0;

  return (
    <ChatView
      chat={chat}
      loading={loading}
      loadError={loadError}
      outage={outage}
      feedback={(runId) => <RunFeedback runId={runId} />}
      draftKey={`chat-draft:${thread ?? "new"}`}
    />
  );
}
