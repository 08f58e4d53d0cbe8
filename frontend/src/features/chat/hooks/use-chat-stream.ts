import type { Client, Message } from "@langchain/langgraph-sdk";
import { useStream } from "@langchain/langgraph-sdk/react";
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { AgentRunPublic, ApprovalDecision, PlanStep } from "@/client";
import { useThreadApprovals } from "../api/get-thread-approvals";
import { ASSISTANT_ID } from "../api/protocol-client";
import {
  buildConversation,
  LIVE_STATUSES,
  LOCAL_PREFIX,
  type RunOutcome,
  type SeenAnswer,
  type StateMessage,
  type Turn,
} from "../utils/conversation";
import { type ChatFailure, describeFailure } from "../utils/failure";

/** The graph's state as the chat reads it (values of the thread). */
export type AgentValues = {
  messages: Message[];
  plan?: string | null;
  plan_steps?: PlanStep[];
};

/** An approval interrupt in agent-chat-ui's shape (what the backend pauses with). */
export type ReviewRequest = {
  action_requests: { name: string; args: Record<string, unknown>; description?: string }[];
  review_configs: { action_name: string; allowed_decisions: string[] }[];
};

type PlanEvent = { type: "plan"; text: string; steps: PlanStep[] };

/** Every run streams the state, the answer token by token and the plan; a reload rejoins it. */
export const STREAM_MODES: ("values" | "messages-tuple" | "custom")[] = [
  "values",
  "messages-tuple",
  "custom",
];
const RUN_OPTIONS = {
  streamMode: STREAM_MODES,
  streamResumable: true,
  // The run goes on if this tab goes away: a reload rejoins it, Stop cancels it.
  onDisconnect: "continue" as const,
};

type UseChatStreamOptions = {
  client: Client;
  threadId: string | undefined;
  /** A new conversation got its id (put it in the URL). */
  onThreadId: (threadId: string) => void;
  /** The thread's runs (GET /agent/runs?thread_id=), for status, stats and unfinished turns. */
  runs?: AgentRunPublic[];
};

const SEEN_PREFIX = "chat-seen:";

/** What this tab saw of a run's answer (sessionStorage: it survives a reload, not the tab). */
function recallSeen(runId: string): SeenAnswer | undefined {
  try {
    const raw = globalThis.sessionStorage?.getItem(SEEN_PREFIX + runId);
    return raw ? (JSON.parse(raw) as SeenAnswer) : undefined;
  } catch {
    return undefined;
  }
}

function rememberSeen(runId: string, answer: SeenAnswer): void {
  try {
    globalThis.sessionStorage?.setItem(SEEN_PREFIX + runId, JSON.stringify(answer));
  } catch {
    // storage full or disabled: a reload then shows the run's stored response only
  }
}

let localCounter = 0;
const localId = () => `${LOCAL_PREFIX}${Date.now().toString(36)}-${++localCounter}`;
const human = (text: string) => ({ type: "human" as const, content: text, id: localId() });

/**
 * A conversation over the Agent Protocol with `useStream`: send, stop, edit (a branch from the
 * checkpoint before the message), regenerate, switch branches, decide approvals, rejoin a run that
 * is still going, and the failures worth telling the user about.
 */
export function useChatStream({ client, threadId, onThreadId, runs }: UseChatStreamOptions) {
  const queryClient = useQueryClient();
  const [liveRunId, setLiveRunId] = useState<string | undefined>(undefined);
  const [livePlan, setLivePlan] = useState<PlanEvent | undefined>(undefined);
  const [failure, setFailure] = useState<ChatFailure | null>(null);
  /** How the runs streamed here ended (the closing `metadata` event): the fallback notice shows
   * as the stream ends, before the runs list is fetched again. */
  const [outcomes, setOutcomes] = useState<Record<string, RunOutcome>>({});
  /** A message whose run never started (e.g. the network dropped): back into the box. */
  const [draft, setDraft] = useState<{ id: string; text: string } | undefined>(undefined);
  const [deciding, setDeciding] = useState<{ approvalId: string; error?: string } | null>(null);

  /** What the request being sent needs if it is refused before its run starts (the React hook
   * reports errors only through the hook-level `onError`, not per submit). */
  const pending = useRef<{ restore?: string; approvalId?: string } | null>(null);
  /** Runs this page has streamed or joined (each is joined at most once). */
  const joined = useRef(new Set<string>());

  const refresh = useCallback(() => {
    for (const key of [
      ["agent", "threads"],
      ["agent", "runs"],
      ["agent", "approvals"],
    ])
      void queryClient.invalidateQueries({ queryKey: key });
  }, [queryClient]);

  const stream = useStream<AgentValues, { InterruptType: ReviewRequest; CustomEventType: PlanEvent }>({
    client,
    assistantId: ASSISTANT_ID,
    messagesKey: "messages",
    threadId: threadId ?? null,
    onThreadId,
    // Branches come from the thread's checkpoints (one per turn, after an empty root).
    fetchStateHistory: { limit: 100 },
    onCreated: (run) => {
      pending.current = null;
      // Streamed here already: it's not a run to join once it shows in the runs list.
      joined.current.add(run.run_id);
      setLiveRunId(run.run_id);
      // The new conversation (or its new status) shows in the sidebar as soon as the run starts.
      void queryClient.invalidateQueries({ queryKey: ["agent", "threads"] });
      void queryClient.invalidateQueries({ queryKey: ["agent", "runs"] });
    },
    onMetadataEvent: (data) => {
      // The first `metadata` event names the run; the closing one also says how it ended.
      const closing = data as typeof data & Partial<RunOutcome>;
      if (!closing.mode) return;
      const outcome = { mode: closing.mode, degraded_reason: closing.degraded_reason, model: closing.model };
      setOutcomes((known) => ({ ...known, [closing.run_id]: outcome }));
    },
    onCustomEvent: (data) => {
      if ((data as PlanEvent)?.type === "plan") setLivePlan(data as PlanEvent);
    },
    onFinish: () => refresh(),
    onError: (error, meta) => {
      const request = pending.current;
      pending.current = null;
      const failure = describeFailure(error);
      const started = Boolean(meta?.run_id);
      // Refused before the run resumed (e.g. 422 bad arguments): stay on the card with the reason.
      if (request?.approvalId && !started)
        setDeciding({ approvalId: request.approvalId, error: failure.message });
      else setFailure(failure);
      // The message never became a run (network down, 409, 422): back into the box.
      if (!started && request?.restore !== undefined) setDraft({ id: localId(), text: request.restore });
      refresh();
    },
  });

  const approvals = useThreadApprovals(threadId);
  const loading = stream.isLoading;

  // Rejoin a run of this thread that is still going (after a reload, from another tab, after an
  // outage): from the start of its stream, in the modes the chat reads.
  const active = runs?.find((run) => LIVE_STATUSES.includes(run.status));
  const joinStream = stream.joinStream;
  useEffect(() => {
    if (!active || loading || stream.isThreadLoading || joined.current.has(active.id)) return;
    joined.current.add(active.id);
    setLiveRunId(active.id);
    void joinStream(active.id, undefined, { streamMode: STREAM_MODES }).catch(() => undefined);
  }, [active, loading, stream.isThreadLoading, joinStream]);

  const values = stream.values;
  const latestPlan = useMemo(() => {
    if (loading && livePlan) return { text: livePlan.text, steps: livePlan.steps };
    if (values?.plan) return { text: values.plan, steps: values.plan_steps ?? [] };
    return undefined;
  }, [loading, livePlan, values?.plan, values?.plan_steps]);

  // A run that ended before its checkpoint (stopped, killed, failed) still shows what streamed.
  const seen = useMemo(() => {
    const found: Record<string, SeenAnswer> = {};
    for (const run of runs ?? []) {
      const answer = recallSeen(run.id);
      if (answer) found[run.id] = answer;
    }
    return found;
  }, [runs]);

  const turns: Turn[] = useMemo(
    () =>
      buildConversation({
        messages: stream.messages as StateMessage[],
        runs,
        approvals: approvals.data?.data,
        loading,
        liveRunId: loading ? liveRunId : undefined,
        interrupted: Boolean(stream.interrupt),
        latestPlan,
        seen,
        outcomes,
      }).map((turn) =>
        turn.kind === "assistant" && deciding
          ? {
              ...turn,
              approvals: turn.approvals.map((a) =>
                a.approvalId === deciding.approvalId
                  ? { ...a, status: deciding.error ? a.status : "deciding", error: deciding.error }
                  : a,
              ),
            }
          : turn,
      ),
    [
      stream.messages,
      runs,
      approvals.data,
      loading,
      liveRunId,
      stream.interrupt,
      latestPlan,
      deciding,
      seen,
      outcomes,
    ],
  );

  // Remember what streams in, by run, for the turns that never reach the checkpoint.
  const streamingAnswer = loading ? turns.findLast((turn) => turn.kind === "assistant") : undefined;
  useEffect(() => {
    if (!liveRunId || streamingAnswer?.kind !== "assistant" || !streamingAnswer.text) return;
    rememberSeen(liveRunId, { text: streamingAnswer.text, toolCalls: streamingAnswer.toolCalls });
  }, [liveRunId, streamingAnswer]);

  // The runs list can still say "running" for a run that just ended here: look again shortly.
  useEffect(() => {
    if (!active || loading || !joined.current.has(active.id)) return;
    const timer = setTimeout(() => {
      void queryClient.invalidateQueries({ queryKey: ["agent", "runs"] });
      void queryClient.invalidateQueries({ queryKey: ["agent", "threads"] });
    }, 1000);
    return () => clearTimeout(timer);
  }, [active, loading, queryClient]);

  /** Start a run; a failure before it started puts `restore` back in the message box. */
  const run = useCallback(
    async (
      input: Parameters<typeof stream.submit>[0],
      options: Parameters<typeof stream.submit>[1],
      restore?: string,
    ) => {
      setFailure(null);
      setLivePlan(undefined);
      pending.current = { restore };
      await stream.submit(input, { ...RUN_OPTIONS, ...options });
    },
    [stream],
  );

  const send = useCallback(
    (text: string) =>
      run(
        { messages: [human(text)] },
        { optimisticValues: (prev) => ({ ...prev, messages: [...(prev.messages ?? []), human(text)] }) },
        text,
      ),
    [run],
  );

  /** The checkpoint before the message at `index`: where its edit or regeneration branches from. */
  const checkpointBefore = useCallback(
    (index: number) => {
      const message = stream.messages[index];
      if (!message) return undefined;
      return stream.getMessagesMetadata(message, index)?.firstSeenState?.parent_checkpoint ?? null;
    },
    [stream],
  );

  /** Send `text` instead of the user message at `index`: a new branch from the checkpoint before it. */
  const edit = useCallback(
    (index: number, text: string) => {
      const checkpoint = checkpointBefore(index);
      if (!checkpoint) return Promise.resolve();
      const before = stream.messages.slice(0, index);
      return run(
        { messages: [human(text)] },
        { checkpoint, optimisticValues: (prev) => ({ ...prev, messages: [...before, human(text)] }) },
      );
    },
    [checkpointBefore, run, stream.messages],
  );

  /** Answer the question at `index` again: the same question, sent from the checkpoint before it.
   * (A run with no input would answer again the question of the thread's newest branch from that
   * checkpoint, not necessarily the one shown: several branches can grow from it.) */
  const regenerate = useCallback(
    (index: number) => {
      const checkpoint = checkpointBefore(index);
      const question = stream.messages[index];
      if (!checkpoint || !question) return Promise.resolve();
      const upTo = stream.messages.slice(0, index);
      const again = { type: "human" as const, content: question.content, id: localId() };
      return run(
        { messages: [again] },
        { checkpoint, optimisticValues: (prev) => ({ ...prev, messages: [...upTo, again] }) },
      );
    },
    [checkpointBefore, run, stream.messages],
  );

  /** Whether the message at `index` has a checkpoint before it to branch from: every message does
   * (the first one's is the thread's empty root checkpoint) unless retention pruned it. */
  const canBranch = useCallback((index: number) => Boolean(checkpointBefore(index)), [checkpointBefore]);

  /** Approve, reject or edit the paused tool call; the run resumes and streams on. */
  const decide = useCallback(
    async (approvalId: string, tool: string, decision: ApprovalDecision) => {
      setDeciding({ approvalId });
      const message = decision.comment ?? undefined;
      const resume =
        decision.decision === "edit"
          ? { type: "edit", edited_action: { name: tool, args: decision.args ?? {} }, message }
          : { type: decision.decision, message };
      pending.current = { approvalId };
      setFailure(null);
      await stream.submit(undefined, { ...RUN_OPTIONS, command: { resume: { decisions: [resume] } } });
      // Unless it was refused (the error stays on the card), the stored decision now shows.
      setDeciding((current) => (current?.error ? current : null));
      refresh();
    },
    [stream, refresh],
  );

  const stop = useCallback(async () => {
    const id = liveRunId;
    await stream.stop();
    if (threadId && id) await client.runs.cancel(threadId, id).catch(() => undefined);
    refresh();
  }, [client, liveRunId, refresh, stream, threadId]);

  const branchOf = useCallback(
    (index: number) => {
      const message = stream.messages[index];
      const meta = message ? stream.getMessagesMetadata(message, index) : undefined;
      const options = meta?.branchOptions ?? [];
      if (!meta?.branch || options.length < 2) return undefined;
      return { current: options.indexOf(meta.branch), options };
    },
    [stream],
  );

  return {
    stream,
    turns,
    loading,
    threadLoading: stream.isThreadLoading,
    failure,
    clearFailure: () => setFailure(null),
    draft,
    send,
    edit,
    regenerate,
    canBranch,
    decide,
    stop,
    branchOf,
    setBranch: stream.setBranch,
    refresh,
  };
}

export type ChatStream = ReturnType<typeof useChatStream>;
