import { MessageSquareIcon, PlusIcon, Trash2Icon } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import type { ThreadPublic } from "@/client";
import { formatRelative } from "@/components/agent/format";
import { ConfirmDeleteDialog } from "@/components/confirm-delete-dialog";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage } from "@/lib/api-error";
import { cn } from "@/lib/utils";
import { useDeleteThread } from "../api/delete-thread";
import { useThreads } from "../api/get-threads";

/**
 * A hint for threads that aren't idle; idle ones show nothing. As in LangGraph's thread status,
 * `interrupted` means paused on an interrupt (here: a tool call awaiting approval), and `error`
 * that the last turn did not complete (failed, or interrupted by a crash).
 */
const STATUS_HINTS: Record<string, { label: string; className: string }> = {
  busy: { label: "answering…", className: "text-primary" },
  interrupted: { label: "awaiting approval", className: "text-amber-600 dark:text-amber-400" },
  error: { label: "didn't finish", className: "text-destructive" },
};

type ThreadsListProps = {
  activeThreadId?: string;
  onSelect: (threadId: string) => void;
  onNewChat: () => void;
  onDeleted: (threadId: string) => void;
};

/** The user's conversations: open one, start a new one, delete one (with confirmation). */
export function ThreadsList({ activeThreadId, onSelect, onNewChat, onDeleted }: ThreadsListProps) {
  const threads = useThreads();
  const deleteThread = useDeleteThread();
  const [deleting, setDeleting] = useState<ThreadPublic | null>(null);

  return (
    <nav aria-label="Conversations" className="flex min-h-0 flex-col gap-2">
      <Button variant="outline" onClick={onNewChat} className="justify-start">
        <PlusIcon /> New chat
      </Button>
      <div className="min-h-0 flex-1 overflow-y-auto">
        {threads.isPending ? (
          <div className="grid gap-2">
            <Skeleton className="h-10" />
            <Skeleton className="h-10" />
          </div>
        ) : // A failed refetch (the server down for a moment) keeps the last list on screen.
        threads.isError && !threads.data ? (
          <Alert variant="destructive">
            <AlertDescription>{errorMessage(threads.error)}</AlertDescription>
          </Alert>
        ) : !threads.data || threads.data.data.length === 0 ? (
          <p className="px-2 py-4 text-sm text-muted-foreground">No conversations yet.</p>
        ) : (
          <ul className="grid gap-1">
            {threads.data.data.map((thread) => {
              const active = thread.thread_id === activeThreadId;
              const hint = STATUS_HINTS[thread.status];
              return (
                <li key={thread.thread_id} className="group relative">
                  <button
                    type="button"
                    onClick={() => onSelect(thread.thread_id)}
                    aria-current={active ? "page" : undefined}
                    className={cn(
                      "flex w-full items-start gap-2 rounded-md py-2 pr-9 pl-2 text-left text-sm outline-none hover:bg-accent focus-visible:ring-[3px] focus-visible:ring-ring/50",
                      active && "bg-accent",
                    )}
                  >
                    <MessageSquareIcon className="mt-0.5 size-4 shrink-0 text-muted-foreground" aria-hidden />
                    <span className="grid min-w-0">
                      <span className="truncate font-medium">{thread.title || "Untitled"}</span>
                      <span className="text-xs text-muted-foreground">
                        {formatRelative(thread.last_activity)} · {thread.run_count}{" "}
                        {thread.run_count === 1 ? "run" : "runs"}
                        {hint ? (
                          <>
                            {" · "}
                            <span className={hint.className} data-testid="thread-status">
                              {hint.label}
                            </span>
                          </>
                        ) : null}
                      </span>
                    </span>
                  </button>
                  <Button
                    variant="ghost"
                    size="icon-sm"
                    className="absolute top-1.5 right-1 opacity-70 group-hover:opacity-100"
                    aria-label={`Delete conversation ${thread.title || "Untitled"}`}
                    onClick={() => setDeleting(thread)}
                  >
                    <Trash2Icon />
                  </Button>
                </li>
              );
            })}
          </ul>
        )}
      </div>
      <ConfirmDeleteDialog
        open={deleting !== null}
        onOpenChange={(open) => !open && setDeleting(null)}
        title="Delete conversation"
        description={`Delete "${deleting?.title ?? ""}"? Its messages are removed; its runs stay in the run history.`}
        pending={deleteThread.isPending}
        onConfirm={() => {
          if (!deleting) return;
          const id = deleting.thread_id;
          deleteThread.mutate(id, {
            onSuccess: () => {
              toast.success("Conversation deleted");
              setDeleting(null);
              onDeleted(id);
            },
            onError: (err) => toast.error(errorMessage(err)),
          });
        }}
      />
    </nav>
  );
}
