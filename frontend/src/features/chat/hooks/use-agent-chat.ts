import { useCallback, useEffect, useRef, useState } from "react";
import type { ApprovalDecision } from "@/client";
import { errorMessage } from "@/lib/api-error";
import { cancelRun } from "../api/cancel-run";
import { approvalStreamPath, streamAgentRun } from "../api/stream-agent-run";
import type { AgentStreamEvent } from "../types";
import { type AssistantTurn, applyStreamEvent, localId, newAssistantTurn, type Turn } from "../utils/turns";

type UseAgentChatOptions = {
  /** Called once per new conversation, when the server assigns it a thread id. */
  onThreadStarted?: (threadId: string) => void;
  /** Called after every run ends (success, error or stop). */
  onRunFinished?: () => void;
};

/** A conversation with the agent: turns, the live stream, Stop, Retry and approval decisions. */
export function useAgentChat({ onThreadStarted, onRunFinished }: UseAgentChatOptions = {}) {
  const [turns, setTurns] = useState<Turn[]>([]);
  const turnsRef = useRef<Turn[]>(turns);
  turnsRef.current = turns;
  const [threadId, setThreadId] = useState<string | undefined>(undefined);
  const [streaming, setStreaming] = useState(false);
  const threadRef = useRef<string | undefined>(undefined);
  const controllerRef = useRef<AbortController | null>(null);
  const runIdRef = useRef<string | undefined>(undefined);
  const callbacks = useRef({ onThreadStarted, onRunFinished });
  callbacks.current = { onThreadStarted, onRunFinished };

  const updateAnswer = useCallback((id: string, update: (turn: AssistantTurn) => AssistantTurn) => {
    setTurns((current) => current.map((t) => (t.kind === "assistant" && t.id === id ? update(t) : t)));
  }, []);

  /** Read one stream into the answer `answerId`, handling stop, errors and cut-offs. */
  const consume = useCallback(
    async (
      answerId: string,
      open: (signal: AbortSignal) => AsyncIterable<AgentStreamEvent>,
      runId?: string,
    ) => {
      const controller = new AbortController();
      controllerRef.current = controller;
      runIdRef.current = runId;
      setStreaming(true);
      try {
        for await (const event of open(controller.signal)) {
          if (event.type === "run_started") {
            runIdRef.current = event.run_id;
            if (threadRef.current !== event.thread_id) {
              threadRef.current = event.thread_id;
              setThreadId(event.thread_id);
              callbacks.current.onThreadStarted?.(event.thread_id);
            }
          }
          if (event.type === "approval_required") runIdRef.current = event.run_id;
          updateAnswer(answerId, (turn) => applyStreamEvent(turn, event));
        }
        // A stream that ends without a terminal event (or a pause for approval) was cut off.
        updateAnswer(answerId, (turn) =>
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
          updateAnswer(answerId, (turn) =>
            turn.status === "streaming"
              ? { ...turn, status: "cancelled", error: { code: "cancelled", message: "Stopped" } }
              : turn,
          );
        } else {
          throw error;
        }
      } finally {
        if (controllerRef.current === controller) controllerRef.current = null;
        setStreaming(false);
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
        await consume(answer.id, (signal) =>
          streamAgentRun({ body: { message, thread_id: threadRef.current ?? null }, signal }),
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

  /** Approve, reject or edit a paused tool call; the run resumes into the same answer. */
  const decide = useCallback(
    async (answerId: string, decision: ApprovalDecision) => {
      const answer = turnsRef.current.find(
        (t): t is AssistantTurn => t.kind === "assistant" && t.id === answerId,
      );
      const approval = answer?.approval;
      const thread = answer?.threadId ?? threadRef.current;
      if (!approval || !thread || controllerRef.current) return;
      updateAnswer(answerId, (turn) => ({
        ...turn,
        status: "streaming",
        error: undefined,
        approval: turn.approval && { ...turn.approval, state: "deciding", error: undefined },
      }));
      try {
        await consume(
          answerId,
          (signal) =>
            streamAgentRun({ body: decision, path: approvalStreamPath(thread, approval.approvalId), signal }),
          approval.runId,
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

  /** Stop the live answer: cancel the run on the server and stop reading. */
  const stop = useCallback(() => {
    const controller = controllerRef.current;
    if (!controller) return;
    const runId = runIdRef.current;
    if (runId) void cancelRun(runId).catch(() => undefined);
    controller.abort();
  }, []);

  /** Show another conversation (or a new, empty one), leaving any live stream behind. */
  const load = useCallback((nextThreadId: string | undefined, nextTurns: Turn[]) => {
    controllerRef.current?.abort();
    controllerRef.current = null;
    threadRef.current = nextThreadId;
    setThreadId(nextThreadId);
    setTurns(nextTurns);
  }, []);

  useEffect(() => () => controllerRef.current?.abort(), []);

  return { turns, threadId, threadRef, streaming, send, decide, stop, load };
}
