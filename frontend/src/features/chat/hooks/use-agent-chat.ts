import { useCallback, useEffect, useRef, useState } from "react";
import type { ApprovalDecision } from "@/client";
import { ApiError, errorMessage } from "@/lib/api-error";
import { cancelRun } from "../api/cancel-run";
import { joinRunStream } from "../api/join-run-stream";
import { approvalStreamPath, type LoggedStreamEvent, streamAgentRun } from "../api/stream-agent-run";
import { forgetRun, rememberRun } from "../utils/active-run";
import type { Rejoin } from "../utils/rejoin";
import {
  type AssistantTurn,
  applyStreamEvent,
  FAILED_STATUSES,
  isTerminalEvent,
  localId,
  newAssistantTurn,
  type Turn,
} from "../utils/turns";

/** How often a dropped stream is rejoined (with Last-Event-ID) before the answer shows the cut. */
export const MAX_REJOINS = 3;
const REJOIN_DELAY_MS = 1000;

type UseAgentChatOptions = {
  /** Called once per new conversation, when the server assigns it a thread id. */
  onThreadStarted?: (threadId: string) => void;
  /** Called after every run ends (success, error or stop). */
  onRunFinished?: () => void;
};

type OpenStream = (signal: AbortSignal) => AsyncIterable<LoggedStreamEvent>;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** A connection that dropped (network, server gone), as opposed to a refusal or a bad stream. */
function isCut(error: unknown): boolean {
  return error instanceof TypeError;
}

/** A conversation with the agent: turns, the live stream, Stop, Retry, rejoin and approval decisions. */
export function useAgentChat({ onThreadStarted, onRunFinished }: UseAgentChatOptions = {}) {
  const [turns, setTurns] = useState<Turn[]>([]);
  const turnsRef = useRef<Turn[]>(turns);
  turnsRef.current = turns;
  const [threadId, setThreadId] = useState<string | undefined>(undefined);
  const [streaming, setStreaming] = useState(false);
  const threadRef = useRef<string | undefined>(undefined);
  const controllerRef = useRef<AbortController | null>(null);
  const runIdRef = useRef<string | undefined>(undefined);
  /** Stop was pressed before the run had an id: cancel it as soon as `run_started` names it. */
  const stopRequestedRef = useRef(false);
  const callbacks = useRef({ onThreadStarted, onRunFinished });
  callbacks.current = { onThreadStarted, onRunFinished };

  const updateAnswer = useCallback((id: string, update: (turn: AssistantTurn) => AssistantTurn) => {
    setTurns((current) => current.map((t) => (t.kind === "assistant" && t.id === id ? update(t) : t)));
  }, []);

  /**
   * Read a run's stream into `answer`: fold each event in, remember the run and its last event id
   * (so a reload rejoins it), rejoin a dropped connection from that id, and handle Stop. Without
   * `open`, the run `answer.runId` is joined after `from` (or replayed from its start).
   */
  const consume = useCallback(
    async (answer: AssistantTurn, open?: OpenStream, from?: string) => {
      const controller = new AbortController();
      controllerRef.current = controller;
      runIdRef.current = answer.runId;
      stopRequestedRef.current = false;
      setStreaming(true);
      let live = answer;
      let lastEventId = from;
      let first = open;
      // After a 400 (our id unknown to the run's log), a replay that starts over (`run_started`)
      // replaces the answer shown; one that only reports the end keeps it.
      let replaying = false;
      const show = (turn: AssistantTurn) => {
        live = turn;
        updateAnswer(answer.id, () => turn);
      };
      try {
        for (let rejoins = 0; ; ) {
          const runId = live.runId;
          const after = lastEventId;
          const joining = !first;
          const source: OpenStream =
            first ?? ((signal) => joinRunStream({ runId: runId ?? "", lastEventId: after, signal }));
          first = undefined;
          try {
            for await (const { id, event } of source(controller.signal)) {
              if (event.type === "run_started") {
                runIdRef.current = event.run_id;
                if (threadRef.current !== event.thread_id) {
                  threadRef.current = event.thread_id;
                  setThreadId(event.thread_id);
                  callbacks.current.onThreadStarted?.(event.thread_id);
                }
                if (stopRequestedRef.current) {
                  void cancelRun(event.run_id).catch(() => undefined);
                  controller.abort();
                }
              }
              if (event.type === "approval_required") runIdRef.current = event.run_id;
              if (replaying && event.type === "run_started")
                live = { ...newAssistantTurn(live.prompt), id: answer.id, threadId: live.threadId };
              replaying = false;
              show(applyStreamEvent(live, event));
              lastEventId = id ?? lastEventId;
              const thread = live.threadId ?? threadRef.current;
              if (!thread || !live.runId) continue;
              if (isTerminalEvent(event) && !FAILED_STATUSES.includes(live.status)) forgetRun(thread);
              // A failed turn stays remembered: the history may lack what this tab saw of it.
              else
                rememberRun({
                  threadId: thread,
                  runId: live.runId,
                  lastEventId: lastEventId ?? "",
                  answer: live,
                });
            }
          } catch (error) {
            if (controller.signal.aborted) throw error;
            if (joining && after && error instanceof ApiError && error.status === 400) {
              // The id isn't in the run's log (e.g. the server restarted): replay it from the start.
              replaying = true;
              lastEventId = undefined;
              continue;
            }
            // A refusal (429, 404…) goes to the caller; a dropped connection is rejoined.
            if (!isCut(error) || !live.runId) throw error;
          }
          // Ended (or paused for an approval): done. Otherwise the stream was cut off: rejoin it.
          if (live.status !== "streaming" || !live.runId || rejoins >= MAX_REJOINS) break;
          rejoins += 1;
          await sleep(REJOIN_DELAY_MS * rejoins, controller.signal);
          if (controller.signal.aborted) throw new DOMException("Stopped", "AbortError");
        }
        // A stream that ends without a terminal event (or a pause for approval) was cut off.
        updateAnswer(answer.id, (turn) =>
          turn.status === "streaming"
            ? {
                ...turn,
                status: "error",
                error: { code: "disconnected", message: "The connection closed before the answer finished" },
              }
            : turn,
        );
      } catch (error) {
        if (controller.signal.aborted) {
          updateAnswer(answer.id, (turn) =>
            turn.status === "streaming"
              ? { ...turn, status: "cancelled", error: { code: "cancelled", message: "Stopped" } }
              : turn,
          );
        } else {
          throw error;
        }
      } finally {
        // A stream left behind (another thread opened) must not end the one that replaced it.
        if (controllerRef.current === controller) {
          controllerRef.current = null;
          setStreaming(false);
        }
        callbacks.current.onRunFinished?.();
      }
    },
    [updateAnswer],
  );

  const send = useCallback(
    async (message: string) => {
      if (controllerRef.current) return;
      const answer = newAssistantTurn(message);
      setTurns((current) => [...current, { kind: "user", id: localId("u"), text: message }, answer]);
      try {
        await consume(answer, (signal) =>
          streamAgentRun({
            // The run goes on if this tab goes away: a reload rejoins it, Stop cancels it.
            body: { message, thread_id: threadRef.current ?? null, on_disconnect: "continue" },
            signal,
          }),
        );
      } catch (error) {
        updateAnswer(answer.id, (turn) => ({
          ...turn,
          status: "error",
          error: { code: "request_failed", message: errorMessage(error) },
        }));
      }
    },
    [consume, updateAnswer],
  );

  /** Follow a run that is already going (after a reload): from `lastEventId`, or replayed from its start. */
  const rejoin = useCallback(
    async ({ answer, lastEventId }: Rejoin): Promise<void> => {
      try {
        await consume(answer, undefined, lastEventId);
      } catch (error) {
        updateAnswer(answer.id, (turn) => ({
          ...turn,
          status: "error",
          error: { code: "request_failed", message: errorMessage(error) },
        }));
      }
    },
    [consume, updateAnswer],
  );

  /** Approve, reject or edit a paused tool call; the run resumes into the same answer. */
  const decide = useCallback(
    async (answerId: string, decision: ApprovalDecision) => {
      const answer = turnsRef.current.find(
        (t): t is AssistantTurn => t.kind === "assistant" && t.id === answerId,
      );
      const approval = answer?.approval;
      const thread = answer?.threadId ?? threadRef.current;
      if (!answer || !approval || !thread || controllerRef.current) return;
      const deciding: AssistantTurn = {
        ...answer,
        status: "streaming",
        error: undefined,
        runId: approval.runId,
        approval: { ...approval, state: "deciding", error: undefined },
      };
      updateAnswer(answerId, () => deciding);
      try {
        await consume(deciding, (signal) =>
          streamAgentRun({ body: decision, path: approvalStreamPath(thread, approval.approvalId), signal }),
        );
        updateAnswer(answerId, (turn) =>
          turn.approval?.state === "deciding"
            ? { ...turn, approval: { ...turn.approval, state: decision.decision } }
            : turn,
        );
      } catch (error) {
        // Refused before the run resumed (e.g. 422 bad arguments, 409 already decided): stay on the card.
        updateAnswer(answerId, (turn) => ({
          ...turn,
          status: "awaiting_approval",
          approval: turn.approval && { ...turn.approval, state: "pending", error: errorMessage(error) },
        }));
      }
    },
    [consume, updateAnswer],
  );

  /** Stop the live answer: cancel the run on the server (wherever it executes) and stop reading. */
  const stop = useCallback(() => {
    const controller = controllerRef.current;
    if (!controller) return;
    const runId = runIdRef.current;
    if (threadRef.current) forgetRun(threadRef.current);
    if (!runId) {
      // Not started yet: aborting now would leave the run going unseen; cancel it once it has an id.
      stopRequestedRef.current = true;
      return;
    }
    void cancelRun(runId).catch(() => undefined);
    controller.abort();
  }, []);

  /** Show another conversation (or a new, empty one), leaving any live stream behind. */
  const load = useCallback(
    (nextThreadId: string | undefined, nextTurns: Turn[], live?: Rejoin) => {
      controllerRef.current?.abort();
      controllerRef.current = null;
      threadRef.current = nextThreadId;
      setThreadId(nextThreadId);
      setTurns(nextTurns);
      setStreaming(false);
      if (live) void rejoin(live);
    },
    [rejoin],
  );

  useEffect(() => () => controllerRef.current?.abort(), []);

  return { turns, threadId, threadRef, streaming, send, decide, stop, load };
}
