import { useQueryClient } from "@tanstack/react-query";
import { createFileRoute, notFound } from "@tanstack/react-router";
import { PanelLeftIcon } from "lucide-react";
import { useEffect, useState } from "react";
import { z } from "zod";
import { Button } from "@/components/ui/button";
import { Sheet, SheetContent, SheetDescription, SheetTitle } from "@/components/ui/sheet";
import { env } from "@/config/env";
import { usePendingApprovals } from "@/features/chat/api/get-pending-approvals";
import { ChatView } from "@/features/chat/components/chat-view";
import { useAgentChat } from "@/features/chat/hooks/use-agent-chat";
import { forgetRun, recallRun } from "@/features/chat/utils/active-run";
import { threadView } from "@/features/chat/utils/rejoin";
import { useThreadRuns } from "@/features/runs/api/get-runs";
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

function ChatPage() {
  const { thread } = Route.useSearch();
  const navigate = Route.useNavigate();
  const queryClient = useQueryClient();
  const [drawerOpen, setDrawerOpen] = useState(false);
  const chat = useAgentChat({
    // The URL holds the conversation, so reload and back/forward return to it.
    onThreadStarted: (id) => void navigate({ search: { thread: id }, replace: true }),
    onRunFinished: () => {
      void queryClient.invalidateQueries({ queryKey: ["agent", "threads"] });
      void queryClient.invalidateQueries({ queryKey: ["agent", "runs"] });
      void queryClient.invalidateQueries({ queryKey: ["agent", "approvals"] });
    },
  });

  // Load the history only when the URL points at a conversation the view isn't already showing.
  const needsHistory = thread !== undefined && thread !== chat.threadRef.current;
  const history = useThread(needsHistory ? thread : undefined);
  const runs = useThreadRuns(needsHistory ? thread : undefined);
  const approvals = usePendingApprovals(needsHistory);
  const { load } = chat;
  // Wait for fresh answers: a cached copy may predate the latest messages.
  const settled = (q: { isSuccess: boolean; isError: boolean; isFetching: boolean }) =>
    (q.isSuccess || q.isError) && !q.isFetching;
  const historyReady = history.isSuccess && !history.isFetching && settled(runs) && settled(approvals);

  useEffect(() => {
    if (thread === chat.threadRef.current) return;
    if (!thread) {
      load(undefined, []);
    } else if (historyReady && history.data?.thread_id === thread) {
      const pending = (approvals.data?.data ?? []).filter((a) => a.thread_id === thread);
      // A turn still running (e.g. after a reload) is rejoined and streams on in place.
      const view = threadView(thread, history.data.messages, runs.data?.data, pending, recallRun(thread));
      if (view.forget) forgetRun(thread);
      load(thread, view.turns, view.rejoin);
    }
  }, [thread, historyReady, history.data, runs.data, approvals.data, load, chat.threadRef]);

  const loadError =
    needsHistory && history.isError
      ? history.error instanceof ApiError && history.error.status === 404
        ? "Conversation not found."
        : errorMessage(history.error)
      : null;

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
        <ChatView chat={chat} loading={needsHistory && !loadError && !historyReady} loadError={loadError} />
      </section>
    </div>
  );
}
