import { Link } from "@tanstack/react-router";
import {
  BotIcon,
  ExternalLinkIcon,
  PencilIcon,
  RefreshCwIcon,
  RotateCcwIcon,
  ShieldAlertIcon,
  ThumbsUpIcon,
  UserIcon,
} from "lucide-react";
import { type ReactNode, useId, useState } from "react";
import type { ApprovalDecision } from "@/client";
import { formatLatency } from "@/components/agent/format";
import { PlanView } from "@/components/agent/plan-view";
import { RunStatusBadge } from "@/components/agent/run-status-badge";
import { ToolCallCard } from "@/components/agent/tool-call-card";
import { CopyButton } from "@/components/copy-button";
import { Markdown } from "@/components/markdown";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Textarea } from "@/components/ui/textarea";
import { type AssistantTurn, BLOCKED_STATUS, planWorthShowing, type UserTurn } from "../utils/conversation";
import { guardrailNotice } from "../utils/guardrail";
import { ApprovalCard } from "./approval-card";
import { BranchSwitcher } from "./branch-switcher";
import { FallbackNotice } from "./fallback-notice";

type UserMessageProps = {
  turn: UserTurn;
  /** Sibling versions of this message (after an edit or a regenerate). */
  branch?: { current: number; total: number; go: (index: number) => void };
  /** Edit and resend (a new branch); undefined when it can't be (streaming, no checkpoint before it). */
  onEdit?: (text: string) => void;
  maxChars?: number;
};

/** The user's message; Edit puts it in a box to change and resend as a new branch. */
export function UserMessage({ turn, branch, onEdit, maxChars }: UserMessageProps) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(turn.text);
  const id = useId();
  const tooLong = maxChars !== undefined && text.length > maxChars;
  const canSave = text.trim().length > 0 && !tooLong && text !== turn.text;

  if (editing && onEdit) {
    return (
      <form
        className="ml-auto grid w-full max-w-[85%] gap-2"
        data-testid="user-message-editor"
        onSubmit={(event) => {
          event.preventDefault();
          if (!canSave) return;
          setEditing(false);
          onEdit(text);
        }}
      >
        <label htmlFor={id} className="sr-only">
          Edit your message
        </label>
        <Textarea id={id} value={text} onChange={(event) => setText(event.target.value)} autoFocus rows={3} />
        {tooLong ? (
          <p role="alert" className="text-xs text-destructive">
            Too long: {text.length.toLocaleString()} of {maxChars?.toLocaleString()} characters.
          </p>
        ) : null}
        <div className="flex justify-end gap-2">
          <Button type="button" size="sm" variant="ghost" onClick={() => setEditing(false)}>
            Cancel
          </Button>
          <Button type="submit" size="sm" disabled={!canSave}>
            Send
          </Button>
        </div>
      </form>
    );
  }

  return (
    <div className="group grid grid-cols-[minmax(0,1fr)] justify-items-end gap-1">
      <div
        className="flex w-full justify-end gap-2"
        data-testid="user-message"
        data-run-status={turn.runStatus ?? undefined}
      >
        <div className="min-w-0 max-w-[85%] whitespace-pre-wrap break-words [overflow-wrap:anywhere] rounded-2xl rounded-br-sm bg-primary px-4 py-2 text-sm text-primary-foreground">
          {turn.text}
        </div>
        <UserIcon className="mt-2 size-4 shrink-0 text-muted-foreground" aria-label="You" />
      </div>
      <div className="mr-6 flex items-center gap-1" data-testid="user-message-actions">
        {branch ? <BranchSwitcher {...branch} /> : null}
        {onEdit ? (
          <Button
            type="button"
            variant="ghost"
            size="icon"
            className="size-7 text-muted-foreground"
            aria-label="Edit message"
            title="Edit and resend (keeps this version as a branch)"
            onClick={() => {
              setText(turn.text);
              setEditing(true);
            }}
          >
            <PencilIcon />
          </Button>
        ) : null}
      </div>
    </div>
  );
}

/** A message an input guardrail refused: which rule and why, and what to do instead of a Retry. */
function BlockedNotice({ message }: { message?: string }) {
  const { rule, reason } = guardrailNotice(message);
  return (
    <Alert variant="destructive" data-testid="guardrail-notice">
      <ShieldAlertIcon aria-hidden />
      <AlertTitle>Message blocked</AlertTitle>
      <AlertDescription>
        <p>
          {rule ? (
            <>
              Your message was blocked by the <code className="font-semibold">{rule}</code> guardrail
              {reason ? `: ${reason}` : "."}
            </>
          ) : (
            reason || "Your message was blocked by a guardrail."
          )}
        </p>
        <p>The agent did not read it. Edit your message and send it again.</p>
      </AlertDescription>
    </Alert>
  );
}

type AssistantMessageProps = {
  turn: AssistantTurn;
  onRetry?: () => void;
  onRegenerate?: () => void;
  onDecide?: (approvalId: string, tool: string, decision: ApprovalDecision) => void;
  /** Thumbs up/down with a comment for the run (the run-detail page's feedback form). */
  feedback?: (runId: string) => ReactNode;
  currentUserId?: string;
};

/** The agent's answer: plan, tool calls, approvals, streamed markdown, then status and actions. */
export function AssistantMessage({
  turn,
  onRetry,
  onRegenerate,
  onDecide,
  feedback,
  currentUserId,
}: AssistantMessageProps) {
  const live = turn.status === "streaming";
  const [rating, setRating] = useState(false);
  const finished = !live && turn.status !== "awaiting_approval";
  return (
    <div className="flex gap-2" data-testid="assistant-message" data-status={turn.status}>
      <BotIcon className="mt-2 size-4 shrink-0 text-muted-foreground" aria-label="Agent" />
      <div className="grid min-w-0 max-w-[85%] flex-1 grid-cols-[minmax(0,1fr)] gap-2">
        {planWorthShowing(turn.plan) && turn.plan ? (
          <PlanView text={turn.plan.text} steps={turn.plan.steps} defaultOpen={live} />
        ) : null}
        {turn.toolCalls.map((call) => (
          <ToolCallCard
            key={call.id}
            // Its status is its result message's, live and after a reload alike (a rejected or
            // refused call has an error result: "failed").
            call={call}
            live={live}
            awaitingApproval={turn.approvals.some(
              (a) => a.status === "pending" && a.live && a.tool === call.name,
            )}
          />
        ))}
        {turn.approvals.map((approval) => (
          <ApprovalCard
            key={approval.approvalId}
            approval={approval}
            currentUserId={currentUserId}
            onDecide={
              onDecide ? (decision) => onDecide(approval.approvalId, approval.tool, decision) : undefined
            }
          />
        ))}
        {turn.text ? (
          <div className="min-w-0 rounded-2xl rounded-bl-sm bg-muted px-4 py-3" data-testid="answer">
            <Markdown>{turn.text}</Markdown>
            {live ? null : <FallbackNotice run={turn.outcome ?? turn.run} />}
          </div>
        ) : live ? (
          <div className="flex items-center gap-1 px-2 py-3" role="status" aria-label="The agent is working">
            <span className="size-2 animate-bounce rounded-full bg-muted-foreground [animation-delay:-0.3s]" />
            <span className="size-2 animate-bounce rounded-full bg-muted-foreground [animation-delay:-0.15s]" />
            <span className="size-2 animate-bounce rounded-full bg-muted-foreground" />
          </div>
        ) : null}
        {turn.status === BLOCKED_STATUS ? (
          <BlockedNotice message={turn.error} />
        ) : turn.error && turn.status !== "success" && !live ? (
          <Alert
            variant={turn.status === "cancelled" || turn.status === "interrupted" ? "default" : "destructive"}
            data-testid="turn-status"
          >
            <AlertDescription className="flex flex-wrap items-center gap-2">
              <span>{turn.error}</span>
              {onRetry ? (
                <Button size="sm" variant="outline" onClick={onRetry}>
                  <RotateCcwIcon /> Retry
                </Button>
              ) : null}
            </AlertDescription>
          </Alert>
        ) : null}
        <div
          className="flex flex-wrap items-center gap-x-3 gap-y-1 px-1 text-xs text-muted-foreground"
          data-testid="run-stats"
        >
          <RunStatusBadge status={turn.status} />
          {finished && turn.run?.latency_ms != null ? (
            <span>{formatLatency(turn.run.latency_ms)}</span>
          ) : null}
          {finished && turn.run ? <span>{(turn.run.total_tokens ?? 0).toLocaleString()} tokens</span> : null}
          {turn.runId && finished ? (
            <Link to="/runs/$runId" params={{ runId: turn.runId }} className="underline underline-offset-2">
              Run details
            </Link>
          ) : null}
          {turn.run?.trace_url ? (
            <a
              href={turn.run.trace_url}
              target="_blank"
              rel="noopener noreferrer"
              className="inline-flex items-center gap-1 underline underline-offset-2"
            >
              Trace <ExternalLinkIcon className="size-3" aria-hidden />
            </a>
          ) : null}
          {finished ? (
            <span className="ml-auto flex items-center gap-0.5" data-testid="answer-actions">
              {turn.text ? <CopyButton text={turn.text} label="Copy answer" /> : null}
              {feedback && turn.runId && turn.run ? (
                <Button
                  type="button"
                  variant="ghost"
                  size="icon"
                  className="size-7 text-muted-foreground"
                  aria-label="Rate this answer"
                  aria-expanded={rating}
                  title="Rate this answer"
                  onClick={() => setRating((open) => !open)}
                >
                  <ThumbsUpIcon />
                </Button>
              ) : null}
              {onRegenerate ? (
                <Button
                  type="button"
                  variant="ghost"
                  size="icon"
                  className="size-7 text-muted-foreground"
                  aria-label="Regenerate answer"
                  title="Regenerate (keeps this answer as a branch)"
                  onClick={onRegenerate}
                >
                  <RefreshCwIcon />
                </Button>
              ) : null}
            </span>
          ) : null}
        </div>
        {rating && feedback && turn.runId ? (
          <div data-testid="answer-feedback">{feedback(turn.runId)}</div>
        ) : null}
      </div>
    </div>
  );
}
