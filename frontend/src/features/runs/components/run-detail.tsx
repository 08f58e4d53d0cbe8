import { ExternalLinkIcon } from "lucide-react";
import type { AgentRunDetail, ApprovalAudit } from "@/client";
import { formatLatency } from "@/components/agent/format";
import { PlanView } from "@/components/agent/plan-view";
import { RunStatusBadge } from "@/components/agent/run-status-badge";
import { ToolCallCard } from "@/components/agent/tool-call-card";
import { Markdown } from "@/components/markdown";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";

function Stat({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="grid gap-0.5">
      <dt className="text-xs text-muted-foreground">{label}</dt>
      <dd className="text-sm font-medium tabular-nums">{children}</dd>
    </div>
  );
}

function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <Card className="gap-3 py-4">
      <CardHeader className="px-4">
        <CardTitle>
          <h2 className="text-base">{title}</h2>
        </CardTitle>
      </CardHeader>
      <CardContent className="px-4">{children}</CardContent>
    </Card>
  );
}

const DECISION_LABELS: Record<string, string> = {
  pending: "awaiting decision",
  approved: "approved",
  edited: "approved with edits",
  rejected: "rejected",
  expired: "expired",
  superseded: "superseded",
};

const DECISION_VARIANTS: Record<string, "success" | "destructive" | "secondary" | "outline"> = {
  approved: "success",
  edited: "success",
  rejected: "destructive",
  expired: "secondary",
  superseded: "secondary",
};

/** Who decided an approval: a person, or why nobody did. */
function decider(approval: ApprovalAudit): string {
  if (approval.decided_by_email) return approval.decided_by_email;
  if (approval.status === "superseded") return "nobody (a new message was sent first)";
  if (approval.status === "expired") return "nobody (it timed out)";
  return approval.decided_by ? "a deleted account" : "—";
}

/** The run's approval requests and decisions: the audit trail. */
function ApprovalAuditList({ approvals }: { approvals: ApprovalAudit[] }) {
  return (
    <ul className="grid gap-3" aria-label="Approval audit">
      {approvals.map((approval) => (
        <li
          key={approval.id}
          className="grid gap-2 rounded-md border p-3 text-sm"
          data-testid="approval-audit"
        >
          <div className="flex flex-wrap items-center gap-2">
            <code className="font-mono text-xs font-medium">{approval.tool}</code>
            <Badge variant={DECISION_VARIANTS[approval.status] ?? "outline"}>
              {DECISION_LABELS[approval.status] ?? approval.status}
            </Badge>
          </div>
          <dl className="grid gap-x-4 gap-y-1 sm:grid-cols-[auto_1fr]">
            <dt className="text-muted-foreground">Requested</dt>
            <dd>
              <time dateTime={approval.created_at}>{new Date(approval.created_at).toLocaleString()}</time>
            </dd>
            <dt className="text-muted-foreground">Decided by</dt>
            <dd className="break-words">{approval.status === "pending" ? "—" : decider(approval)}</dd>
            <dt className="text-muted-foreground">Decided</dt>
            <dd>
              {approval.decided_at ? (
                <time dateTime={approval.decided_at}>{new Date(approval.decided_at).toLocaleString()}</time>
              ) : (
                "—"
              )}
            </dd>
            <dt className="text-muted-foreground">Comment</dt>
            <dd className="whitespace-pre-wrap break-words">{approval.comment || "—"}</dd>
          </dl>
          {approval.edited_args ? (
            <div>
              <p className="pb-1 text-xs font-medium text-muted-foreground">Edited arguments</p>
              <pre className="overflow-x-auto rounded bg-muted/60 p-2 font-mono text-xs">
                {JSON.stringify(approval.edited_args, null, 2)}
              </pre>
            </div>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

/** Everything about one run: input, answer, plan, tool calls, cost, evaluations, trace link. */
export function RunDetailView({ run, feedback }: { run: AgentRunDetail; feedback?: React.ReactNode }) {
  const toolCalls = run.tool_calls ?? [];
  const evaluations = run.evaluations_detail ?? [];
  const approvals = run.approvals ?? [];
  return (
    <div className="grid gap-4">
      <div className="flex flex-wrap items-center gap-3">
        <RunStatusBadge status={run.status} />
        <time dateTime={run.created_at} className="text-sm text-muted-foreground">
          {new Date(run.created_at).toLocaleString()}
        </time>
        {run.thread_deleted ? <Badge variant="secondary">conversation deleted</Badge> : null}
        <div className="flex-1" />
        {run.trace_url ? (
          <Button asChild variant="outline" size="sm">
            <a href={run.trace_url} target="_blank" rel="noopener noreferrer">
              View trace in Langfuse <ExternalLinkIcon />
            </a>
          </Button>
        ) : null}
      </div>
      <dl className="grid grid-cols-2 gap-4 rounded-lg border p-4 sm:grid-cols-3 lg:grid-cols-6">
        <Stat label="Latency">{formatLatency(run.latency_ms)}</Stat>
        <Stat label="Prompt tokens">{(run.prompt_tokens ?? 0).toLocaleString()}</Stat>
        <Stat label="Completion tokens">{(run.completion_tokens ?? 0).toLocaleString()}</Stat>
        <Stat label="Total tokens">{(run.total_tokens ?? 0).toLocaleString()}</Stat>
        <Stat label="Tool calls">{run.tool_call_count ?? toolCalls.length}</Stat>
        <Stat label="Model">{run.model ?? "—"}</Stat>
      </dl>
      {run.error ? (
        <Alert variant="destructive">
          <AlertDescription>{run.error}</AlertDescription>
        </Alert>
      ) : null}
      <Section title="Input">
        <p className="whitespace-pre-wrap break-words text-sm">{run.input}</p>
      </Section>
      <Section title="Response">
        {run.response ? (
          <Markdown>{run.response}</Markdown>
        ) : (
          <p className="text-sm text-muted-foreground">No response.</p>
        )}
      </Section>
      {run.plan ? <PlanView text={run.plan} steps={[]} /> : null}
      {toolCalls.length ? (
        <Section title={`Tool calls (${toolCalls.length})`}>
          <div className="grid gap-2">
            {toolCalls.map((call) => (
              <ToolCallCard
                key={call.id}
                call={{ ...call, args: call.args ?? {} }}
                live={run.status === "running" || run.status === "pending"}
                awaitingApproval={run.status === "awaiting_approval"}
              />
            ))}
          </div>
        </Section>
      ) : null}
      {approvals.length ? (
        <Section title={`Approvals (${approvals.length})`}>
          <ApprovalAuditList approvals={approvals} />
        </Section>
      ) : null}
      <Section title="Evaluations">
        {evaluations.length ? (
          <ul className="grid gap-3">
            {evaluations.map((evaluation) => {
              const reasoning = evaluation.eval_metadata?.reasoning;
              return (
                <li
                  key={`${evaluation.metric_name}-${evaluation.created_at}`}
                  className="grid gap-1 rounded-md border p-3"
                >
                  <div className="flex items-center justify-between gap-2">
                    <span className="font-medium">{evaluation.metric_name}</span>
                    <Badge variant="outline" className="tabular-nums">
                      {evaluation.score.toFixed(2)}
                    </Badge>
                  </div>
                  {typeof reasoning === "string" && reasoning ? (
                    <p className="text-sm text-muted-foreground">{reasoning}</p>
                  ) : null}
                </li>
              );
            })}
          </ul>
        ) : (
          <p className="text-sm text-muted-foreground">Not evaluated yet.</p>
        )}
      </Section>
      {feedback}
    </div>
  );
}
