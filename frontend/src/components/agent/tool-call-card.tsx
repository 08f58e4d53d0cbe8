import {
  BanIcon,
  CheckCircle2Icon,
  ChevronRightIcon,
  CircleDashedIcon,
  LoaderIcon,
  ShieldAlertIcon,
  WrenchIcon,
  XCircleIcon,
} from "lucide-react";
import type { ToolCallStatus } from "@/client";
import { Collapsible, CollapsibleContent, CollapsibleTrigger } from "@/components/ui/collapsible";

export type ToolCallProps = {
  id: string;
  name: string;
  args: Record<string, unknown>;
  output?: string | null;
  ok?: boolean | null;
  /** The backend's derivation (`tool_call_status`): the chat and run detail show the same. */
  status?: ToolCallStatus | null;
};

/** The call's finished state: the backend's status when given, else from `ok` (older records). */
function finishedState(call: ToolCallProps): "done" | "failed" | "rejected" | null {
  if (call.status && call.status !== "pending") return call.status;
  if (call.output === undefined || call.output === null) return null;
  return call.ok === false ? "failed" : "done";
}

function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

type ToolCallCardProps = {
  call: ToolCallProps;
  defaultOpen?: boolean;
  /** The run is still going (an unfinished call is "running", not "no result"). */
  live?: boolean;
  /** The call is paused for the user's approval. */
  awaitingApproval?: boolean;
};

/** One tool call: name and state on a line; arguments and result when expanded. */
export function ToolCallCard({
  call,
  defaultOpen = false,
  live = true,
  awaitingApproval = false,
}: ToolCallCardProps) {
  const state = finishedState(call);
  const finished = state !== null;
  return (
    <Collapsible
      defaultOpen={defaultOpen}
      className="rounded-md border bg-background/60"
      data-testid="tool-call"
      data-status={state ?? (awaitingApproval ? "awaiting_approval" : live ? "running" : "no_result")}
    >
      <CollapsibleTrigger className="group flex w-full items-center gap-2 px-3 py-2 text-left text-sm outline-none focus-visible:ring-[3px] focus-visible:ring-ring/50">
        <ChevronRightIcon
          className="size-4 shrink-0 transition-transform group-data-[state=open]:rotate-90"
          aria-hidden
        />
        <WrenchIcon className="size-4 shrink-0 text-muted-foreground" aria-hidden />
        <span className="font-mono text-xs font-medium">{call.name}</span>
        <span className="ml-auto flex items-center gap-1 text-xs text-muted-foreground">
          {!finished && awaitingApproval ? (
            <>
              <ShieldAlertIcon className="size-3.5 text-warning" aria-hidden /> awaiting approval
            </>
          ) : !finished && live ? (
            <>
              <LoaderIcon className="size-3.5 animate-spin" aria-hidden /> running
            </>
          ) : !finished ? (
            <>
              <CircleDashedIcon className="size-3.5" aria-hidden /> no result
            </>
          ) : state === "failed" ? (
            <>
              <XCircleIcon className="size-3.5 text-destructive" aria-hidden /> failed
            </>
          ) : state === "rejected" ? (
            <>
              <BanIcon className="size-3.5 text-destructive" aria-hidden /> rejected
            </>
          ) : (
            <>
              <CheckCircle2Icon className="size-3.5 text-success" aria-hidden /> done
            </>
          )}
        </span>
      </CollapsibleTrigger>
      <CollapsibleContent className="grid gap-2 border-t px-3 py-2 text-xs">
        <div>
          <p className="pb-1 font-medium text-muted-foreground">Arguments</p>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be focusable */}
          <pre tabIndex={0} className="overflow-x-auto rounded bg-muted/60 p-2 font-mono">
            {JSON.stringify(call.args, null, 2)}
          </pre>
        </div>
        {finished ? (
          <div>
            <p className="pb-1 font-medium text-muted-foreground">Result</p>
            <pre
              // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be focusable
              tabIndex={0}
              className="max-h-64 overflow-auto whitespace-pre-wrap break-words rounded bg-muted/60 p-2 font-mono"
            >
              {pretty(call.output ?? "")}
            </pre>
          </div>
        ) : null}
      </CollapsibleContent>
    </Collapsible>
  );
}
