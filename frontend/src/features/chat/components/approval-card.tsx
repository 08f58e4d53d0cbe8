import { CheckIcon, PencilIcon, ShieldAlertIcon, XIcon } from "lucide-react";
import { useId, useState } from "react";
import type { ApprovalDecision, DataFlow } from "@/client";
import { formatRelative } from "@/components/agent/format";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";
import type { ApprovalView } from "../utils/conversation";

/** What became of an approval, as its title says it. */
const STATUS_TITLE: Record<string, string> = {
  pending: "Approval needed",
  deciding: "Sending your decision…",
  approved: "Approved",
  edited: "Edited and approved",
  rejected: "Rejected",
  superseded: "Superseded — a new message was sent before a decision",
  expired: "Expired without a decision",
};

function parseArgs(text: string): Record<string, unknown> | string {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value))
      return "Arguments must be a JSON object";
    return value as Record<string, unknown>;
  } catch (error) {
    return `Not valid JSON: ${(error as Error).message}`;
  }
}

const LOCATION_LABEL: Record<string, string> = {
  path: "URL path",
  query: "query",
  fragment: "URL fragment",
  body: "body",
};

/** What the call would send out: the full URL and each piece of data, flagged when it comes
 * from this conversation (the user's messages or the app's own data). */
function DataFlowView({ flow }: { flow: DataFlow }) {
  const items = flow.items ?? [];
  return (
    <div className="grid gap-1.5" data-testid="approval-data-flow">
      <p className="text-xs font-medium text-muted-foreground">
        Data leaving the app to{" "}
        <span className="font-mono text-foreground">{flow.host || "an unknown host"}</span>
      </p>
      <pre className="overflow-x-auto whitespace-pre-wrap break-all rounded bg-muted/60 p-2 font-mono text-xs">
        {flow.url}
      </pre>
      {flow.carries_conversation_data ? (
        <p className="text-xs font-medium text-destructive">
          This request carries data from your conversation.
        </p>
      ) : null}
      {items.length ? (
        <ul className="grid gap-1 text-xs">
          {items.map((item, index) => (
            <li
              // biome-ignore lint/suspicious/noArrayIndexKey: items have no identity beyond their position
              key={index}
              className="flex flex-wrap items-baseline gap-1.5"
              data-from-conversation={item.from_conversation}
            >
              <Badge variant={item.from_conversation ? "destructive" : "outline"}>
                {LOCATION_LABEL[item.location] ?? item.location}
                {item.name ? ` ${item.name}` : ""}
              </Badge>
              <code className="break-all font-mono">{item.value}</code>
              {item.from_conversation ? (
                <span className="text-destructive">from this conversation</span>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

type ApprovalCardProps = {
  approval: ApprovalView;
  /** Undefined while another answer streams: the buttons are disabled. */
  onDecide?: (decision: ApprovalDecision) => void;
  /** The signed-in user (a decision of theirs reads "by you"). */
  currentUserId?: string;
};

/** Who decided and when, and their comment (the audit record). */
function Decision({ approval, currentUserId }: { approval: ApprovalView; currentUserId?: string }) {
  if (!approval.decidedAt && !approval.comment) return null;
  const who = approval.decidedBy ? (approval.decidedBy === currentUserId ? "you" : "an administrator") : null;
  return (
    <div className="grid gap-0.5 text-xs text-muted-foreground" data-testid="approval-decision">
      {who || approval.decidedAt ? (
        <p>
          {who ? `By ${who}` : "Decided"}
          {approval.decidedAt ? ` · ${formatRelative(approval.decidedAt)}` : ""}
        </p>
      ) : null}
      {approval.comment ? (
        <p>
          Comment: <span className="text-foreground">{approval.comment}</span>
        </p>
      ) : null}
    </div>
  );
}

/** A paused side-effecting tool call: what it would do and why; Approve, Reject or Edit while it
 * is pending and the run waits on it, then what was decided, by whom, with what comment. */
export function ApprovalCard({ approval, onDecide, currentUserId }: ApprovalCardProps) {
  const [editing, setEditing] = useState(false);
  const [argsText, setArgsText] = useState(() => JSON.stringify(approval.args, null, 2));
  const [argsError, setArgsError] = useState<string | null>(null);
  const [comment, setComment] = useState("");
  const ids = { args: useId(), comment: useId() };
  // Only the approval the run is paused on right now takes a decision.
  const pending = approval.status === "pending" && approval.live;
  const disabled = !pending || !onDecide;
  const title = STATUS_TITLE[approval.status] ?? approval.status;
  const args = approval.editedArgs ?? approval.args;
  const withComment = (decision: ApprovalDecision): ApprovalDecision =>
    comment.trim() ? { ...decision, comment: comment.trim() } : decision;

  const submitEdit = () => {
    const parsed = parseArgs(argsText);
    if (typeof parsed === "string") {
      setArgsError(parsed);
      return;
    }
    setArgsError(null);
    onDecide?.(withComment({ decision: "edit", args: parsed }));
  };

  return (
    <section
      className="grid gap-3 rounded-lg border border-amber-500/50 bg-amber-500/5 p-3"
      aria-label={`${title}: ${approval.tool}`}
      data-testid="approval-card"
      data-state={approval.status}
    >
      <div className="flex flex-wrap items-center gap-2">
        <ShieldAlertIcon className="size-4 text-amber-600 dark:text-amber-400" aria-hidden />
        <h3 className="text-sm font-semibold">{title}</h3>
        <Badge variant="outline" className="font-mono">
          {approval.tool}
        </Badge>
      </div>
      <p className="text-sm">{approval.reason}</p>
      {approval.dataFlow ? <DataFlowView flow={approval.dataFlow} /> : null}
      {editing && pending ? (
        <div className="grid gap-1.5">
          <Label htmlFor={ids.args}>Arguments (JSON)</Label>
          <Textarea
            id={ids.args}
            value={argsText}
            onChange={(event) => setArgsText(event.target.value)}
            className="font-mono text-xs"
            aria-invalid={Boolean(argsError)}
            rows={6}
          />
          {argsError ? (
            <p role="alert" className="text-sm text-destructive">
              {argsError}
            </p>
          ) : null}
        </div>
      ) : (
        <div className="grid gap-1">
          <p className="text-xs font-medium text-muted-foreground">
            {approval.editedArgs ? "Arguments (as edited)" : "Arguments"}
          </p>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be focusable (long arguments scroll on phones) */}
          <pre tabIndex={0} className="overflow-x-auto rounded bg-muted/60 p-2 font-mono text-xs">
            {JSON.stringify(args, null, 2)}
          </pre>
        </div>
      )}
      {pending ? (
        <div className="grid gap-1.5">
          <Label htmlFor={ids.comment}>Comment (optional)</Label>
          <Input
            id={ids.comment}
            value={comment}
            maxLength={2000}
            onChange={(event) => setComment(event.target.value)}
          />
        </div>
      ) : null}
      {!pending ? <Decision approval={approval} currentUserId={currentUserId} /> : null}
      {approval.error ? (
        <Alert variant="destructive">
          <AlertDescription>{approval.error}</AlertDescription>
        </Alert>
      ) : null}
      {pending ? (
        <div className="flex flex-wrap gap-2">
          {editing ? (
            <>
              <Button size="sm" onClick={submitEdit} disabled={disabled}>
                <CheckIcon /> Run with these arguments
              </Button>
              <Button size="sm" variant="ghost" onClick={() => setEditing(false)}>
                Cancel edit
              </Button>
            </>
          ) : (
            <>
              <Button
                size="sm"
                onClick={() => onDecide?.(withComment({ decision: "approve" }))}
                disabled={disabled}
              >
                <CheckIcon /> Approve
              </Button>
              <Button
                size="sm"
                variant="outline"
                onClick={() => onDecide?.(withComment({ decision: "reject" }))}
                disabled={disabled}
              >
                <XIcon /> Reject
              </Button>
              <Button size="sm" variant="ghost" onClick={() => setEditing(true)} disabled={disabled}>
                <PencilIcon /> Edit
              </Button>
            </>
          )}
        </div>
      ) : null}
    </section>
  );
}
