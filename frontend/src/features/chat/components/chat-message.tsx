import { Link } from "@tanstack/react-router";
import { BotIcon, ExternalLinkIcon, RotateCcwIcon, ShieldAlertIcon, UserIcon } from "lucide-react";
import type { ApprovalDecision } from "@/client";
import { formatLatency } from "@/components/agent/format";
import { PlanView } from "@/components/agent/plan-view";
import { RunStatusBadge } from "@/components/agent/run-status-badge";
import { ToolCallCard } from "@/components/agent/tool-call-card";
import { Markdown } from "@/components/markdown";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { type AssistantTurn, BLOCKED_STATUS, guardrailNotice, type UserTurn } from "../utils/turns";
import { ApprovalCard } from "./approval-card";
import { FallbackNotice } from "./fallback-notice";

export function UserMessage({ turn }: { turn: UserTurn }) {
  return (
    <div
      className="flex justify-end gap-2"
      data-testid="user-message"
      data-run-status={turn.runStatus ?? undefined}
    >
      <div className="max-w-[85%] whitespace-pre-wrap break-words rounded-2xl rounded-br-sm bg-primary px-4 py-2 text-sm text-primary-foreground">
        {turn.text}
      </div>
      <UserIcon className="mt-2 size-4 shrink-0 text-muted-foreground" aria-label="You" />
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

/** The agent's answer: plan, tool calls, streamed markdown, then status, latency and tokens. */
export function AssistantMessage({
  turn,
  onRetry,
  onDecide,
}: {
  turn: AssistantTurn;
  onRetry?: () => void;
  onDecide?: (decision: ApprovalDecision) => void;
}) {
  const live = turn.status === "streaming";
  return (
    <div className="flex gap-2" data-testid="assistant-message" data-status={turn.status}>
      <BotIcon className="mt-2 size-4 shrink-0 text-muted-foreground" aria-label="Agent" />
      <div className="grid min-w-0 max-w-[85%] flex-1 gap-2">
        {turn.plan ? <PlanView text={turn.plan.text} steps={turn.plan.steps} defaultOpen={live} /> : null}
        {turn.toolCalls.map((call) => (
          <ToolCallCard
            key={call.id}
            call={call}
            live={live}
            awaitingApproval={turn.approval?.state === "pending" && turn.approval.tool === call.name}
          />
        ))}
        {turn.approval ? (
          <ApprovalCard key={turn.approval.approvalId} approval={turn.approval} onDecide={onDecide} />
        ) : null}
        {turn.text ? (
          <div className="rounded-2xl rounded-bl-sm bg-muted px-4 py-3" data-testid="answer">
            <Markdown>{turn.text}</Markdown>
            {live ? null : <FallbackNotice model={turn.model} />}
          </div>
        ) : live ? (
          <div className="flex items-center gap-1 px-2 py-3" role="status" aria-label="The agent is working">
            <span className="size-2 animate-bounce rounded-full bg-muted-foreground [animation-delay:-0.3s]" />
            <span className="size-2 animate-bounce rounded-full bg-muted-foreground [animation-delay:-0.15s]" />
            <span className="size-2 animate-bounce rounded-full bg-muted-foreground" />
          </div>
        ) : null}
        {turn.status === BLOCKED_STATUS ? (
          <BlockedNotice message={turn.error?.message} />
        ) : turn.error && turn.status !== "success" ? (
          <Alert
            variant={turn.status === "cancelled" || turn.status === "interrupted" ? "default" : "destructive"}
            data-testid="turn-status"
          >
            <AlertDescription className="flex flex-wrap items-center gap-2">
              <span>{turn.status === "cancelled" ? "Stopped." : turn.error.message}</span>
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
          {!live && turn.latencyMs !== undefined ? <span>{formatLatency(turn.latencyMs)}</span> : null}
          {!live && turn.tokens ? <span>{turn.tokens.total.toLocaleString()} tokens</span> : null}
          {turn.runId && !live ? (
            <Link to="/runs/$runId" params={{ runId: turn.runId }} className="underline underline-offset-2">
              Run details
            </Link>
          ) : null}
          {turn.traceUrl ? (
            <a
              href={turn.traceUrl}
              target="_blank"
              rel="noopener noreferrer"
              className="inline-flex items-center gap-1 underline underline-offset-2"
            >
              Trace <ExternalLinkIcon className="size-3" aria-hidden />
            </a>
          ) : null}
        </div>
      </div>
    </div>
  );
}
