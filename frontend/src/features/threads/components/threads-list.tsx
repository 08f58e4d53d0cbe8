import { MessageSquareIcon, PencilIcon, PlusIcon, SearchIcon, Trash2Icon } from "lucide-react";
import { useEffect, useRef, useState } from "react";
import { toast } from "sonner";
import type { ThreadPublic } from "@/client";
import { formatRelative } from "@/components/agent/format";
import { ConfirmDeleteDialog } from "@/components/confirm-delete-dialog";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage } from "@/lib/api-error";
import { cn } from "@/lib/utils";
import { useDeleteThread } from "../api/delete-thread";
import { useThreads } from "../api/get-threads";
import { THREAD_TITLE_MAX, useRenameThread } from "../api/rename-thread";

const SEARCH_DEBOUNCE_MS = 250;

/** The search box's text, settled for a moment before it is sent. */
function useDebounced(value: string, ms: number): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/** The title as an input: Enter or leaving the field saves, Escape cancels. */
function RenameField({ thread, onDone }: { thread: ThreadPublic; onDone: () => void }) {
  const rename = useRenameThread();
  const [title, setTitle] = useState(thread.title);
  const input = useRef<HTMLInputElement>(null);
  // Escape cancels the rename only: caught before a surrounding drawer's own Escape handler
  // (which listens on the document) so the drawer stays open.
  useEffect(() => {
    const cancel = (event: KeyboardEvent) => {
      if (event.key !== "Escape" || event.target !== input.current) return;
      event.preventDefault();
      onDone();
    };
    window.addEventListener("keydown", cancel, { capture: true });
    return () => window.removeEventListener("keydown", cancel, { capture: true });
  }, [onDone]);
  const trimmed = title.trim();
  const save = () => {
    if (rename.isPending) return;
    if (!trimmed || trimmed === thread.title) return onDone();
    rename.mutate(
      { threadId: thread.thread_id, title: trimmed },
      {
        onSuccess: () => onDone(),
        onError: (err) => toast.error(errorMessage(err)),
      },
    );
  };
  return (
    <form
      className="py-1 pl-2"
      onSubmit={(event) => {
        event.preventDefault();
        save();
      }}
    >
      <Input
        autoFocus
        aria-label="Conversation title"
        value={title}
        maxLength={THREAD_TITLE_MAX}
        disabled={rename.isPending}
        onChange={(event) => setTitle(event.target.value)}
        onBlur={save}
        ref={input}
        className="h-8"
      />
    </form>
  );
}

/**
 * A hint for threads that aren't idle; idle ones show nothing. As in LangGraph's thread status,
 * `interrupted` means paused on an interrupt (here: a tool call awaiting approval), and `error`
 * that the last turn did not complete (failed, or interrupted by a crash).
 */
const STATUS_HINTS: Record<string, { label: string; className: string }> = {
  busy: { label: "answering…", className: "text-primary" },
  interrupted: { label: "awaiting approval", className: "text-warning" },
  error: { label: "didn't finish", className: "text-destructive" },
};

type ThreadsListProps = {
  activeThreadId?: string;
  onSelect: (threadId: string) => void;
  onNewChat: () => void;
  onDeleted: (threadId: string) => void;
};

/** The user's conversations: search, open, start, rename or delete one (with confirmation). */
export function ThreadsList({ activeThreadId, onSelect, onNewChat, onDeleted }: ThreadsListProps) {
  const [search, setSearch] = useState("");
  const query = useDebounced(search.trim(), SEARCH_DEBOUNCE_MS);
  const threads = useThreads(query);
  const deleteThread = useDeleteThread();
  const [deleting, setDeleting] = useState<ThreadPublic | null>(null);
  const [renaming, setRenaming] = useState<string | null>(null);

  return (
    <nav aria-label="Conversations" className="flex min-h-0 flex-col gap-2">
      <Button variant="outline" onClick={onNewChat} className="justify-start">
        <PlusIcon /> New chat
      </Button>
      <div className="relative">
        <SearchIcon
          className="pointer-events-none absolute top-1/2 left-2.5 size-4 -translate-y-1/2 text-muted-foreground"
          aria-hidden
        />
        <Input
          type="search"
          aria-label="Search conversations"
          placeholder="Search conversations"
          value={search}
          maxLength={200}
          onChange={(event) => setSearch(event.target.value)}
          className="pl-8"
        />
      </div>
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
        ) : threads.threads.length === 0 ? (
          <p className="px-2 py-4 text-sm text-muted-foreground" data-testid="threads-empty">
            {query ? `No conversations match “${query}”.` : "No conversations yet."}
          </p>
        ) : (
          <ul className="grid gap-1">
            {threads.threads.map((thread) => {
              const active = thread.thread_id === activeThreadId;
              const hint = STATUS_HINTS[thread.status];
              return (
                <li key={thread.thread_id} className="group relative" data-testid="thread-item">
                  {renaming === thread.thread_id ? (
                    <RenameField thread={thread} onDone={() => setRenaming(null)} />
                  ) : (
                    <button
                      type="button"
                      onClick={() => onSelect(thread.thread_id)}
                      aria-current={active ? "page" : undefined}
                      className={cn(
                        "flex w-full items-start gap-2 rounded-md py-2 pr-16 pl-2 text-left text-sm outline-none hover:bg-accent focus-visible:ring-[3px] focus-visible:ring-ring/50",
                        active && "bg-accent",
                      )}
                    >
                      <MessageSquareIcon
                        className="mt-0.5 size-4 shrink-0 text-muted-foreground"
                        aria-hidden
                      />
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
                  )}
                  {renaming === thread.thread_id ? null : (
                    <div className="absolute top-1.5 right-1 flex opacity-70 group-hover:opacity-100">
                      <Button
                        variant="ghost"
                        size="icon-sm"
                        aria-label={`Rename conversation ${thread.title || "Untitled"}`}
                        onClick={() => setRenaming(thread.thread_id)}
                      >
                        <PencilIcon />
                      </Button>
                      <Button
                        variant="ghost"
                        size="icon-sm"
                        aria-label={`Delete conversation ${thread.title || "Untitled"}`}
                        onClick={() => setDeleting(thread)}
                      >
                        <Trash2Icon />
                      </Button>
                    </div>
                  )}
                </li>
              );
            })}
          </ul>
        )}
        {threads.hasNextPage ? (
          <Button
            variant="ghost"
            size="sm"
            className="mt-1 w-full"
            disabled={threads.isFetchingNextPage}
            onClick={() => void threads.fetchNextPage()}
          >
            {threads.isFetchingNextPage ? "Loading…" : "Show older conversations"}
          </Button>
        ) : null}
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
