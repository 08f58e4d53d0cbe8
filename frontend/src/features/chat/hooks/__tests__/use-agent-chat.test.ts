import { act, renderHook, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "@/lib/api-error";
import type { LoggedStreamEvent } from "../../api/stream-agent-run";
import type { AgentStreamEvent } from "../../types";
import { recallRun } from "../../utils/active-run";
import { type AssistantTurn, newAssistantTurn } from "../../utils/turns";
import { useAgentChat } from "../use-agent-chat";

const RUN = "0b5c9f7e-8f61-4b0a-9d8e-2a1f3c4d5e6f";
const THREAD = "7d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6";

const api = vi.hoisted(() => ({
  streamAgentRun: vi.fn(),
  joinRunStream: vi.fn(),
  cancelRun: vi.fn(async () => undefined),
}));
vi.mock("../../api/stream-agent-run", async (original) => ({
  ...(await original<typeof import("../../api/stream-agent-run")>()),
  streamAgentRun: api.streamAgentRun,
}));
vi.mock("../../api/join-run-stream", () => ({ joinRunStream: api.joinRunStream }));
vi.mock("../../api/cancel-run", () => ({ cancelRun: api.cancelRun }));

type Step = [string, AgentStreamEvent] | Error;

/** A stream that yields the given (id, event) pairs, then ends or throws. */
async function* stream(steps: Step[]): AsyncGenerator<LoggedStreamEvent> {
  for (const step of steps) {
    if (step instanceof Error) throw step;
    yield { id: step[0], event: step[1] };
  }
}

const started: Step = ["1", { type: "run_started", run_id: RUN, thread_id: THREAD }];
const token = (id: string, text: string): Step => [id, { type: "token", text }];
const completed: Step = [
  "9",
  { type: "run_completed", run_id: RUN, thread_id: THREAD, status: "success", response: "Hello world" },
];

function answer(turns: ReturnType<typeof useAgentChat>["turns"]): AssistantTurn {
  return turns.at(-1) as AssistantTurn;
}

afterEach(() => {
  vi.useRealTimers();
  vi.clearAllMocks();
  sessionStorage.clear();
});

describe("useAgentChat", () => {
  it("asks the run to continue on disconnect and remembers the last event id as events arrive", async () => {
    let seen: ActiveRunSnapshot | null = null;
    api.streamAgentRun.mockImplementation(async function* () {
      yield* stream([started, token("2", "Hello")]);
      seen = recallRun(THREAD);
      yield* stream([token("3", " world"), completed]);
    });
    const { result } = renderHook(() => useAgentChat());
    await act(() => result.current.send("hi"));
    expect(api.streamAgentRun.mock.calls[0]?.[0].body).toEqual({
      message: "hi",
      thread_id: null,
      on_disconnect: "continue",
    });
    expect(seen).toMatchObject({ runId: RUN, lastEventId: "2", answer: { text: "Hello" } });
    expect(answer(result.current.turns)).toMatchObject({ status: "success", text: "Hello world" });
    // Over: nothing left to rejoin.
    expect(recallRun(THREAD)).toBeNull();
  });

  it("rejoins a dropped stream after its last event id: no token twice", async () => {
    api.streamAgentRun.mockReturnValue(
      stream([started, token("2", "Hello"), new TypeError("network error")]),
    );
    api.joinRunStream.mockReturnValue(stream([token("3", " world"), completed]));
    const { result } = renderHook(() => useAgentChat());
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    await act(async () => {
      const sending = result.current.send("hi");
      await vi.advanceTimersByTimeAsync(2_000);
      await sending;
    });
    expect(api.joinRunStream).toHaveBeenCalledTimes(1);
    expect(api.joinRunStream.mock.calls[0]?.[0]).toMatchObject({ runId: RUN, lastEventId: "2" });
    expect(answer(result.current.turns)).toMatchObject({ status: "success", text: "Hello world" });
  });

  it("gives up after a few failed rejoins and says the connection closed", async () => {
    api.streamAgentRun.mockReturnValue(stream([started, token("2", "Hel")]));
    api.joinRunStream.mockImplementation(() => stream([new TypeError("Failed to fetch")]));
    const { result } = renderHook(() => useAgentChat());
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    await act(async () => {
      const sending = result.current.send("hi");
      await vi.advanceTimersByTimeAsync(10_000);
      await sending;
    });
    expect(api.joinRunStream).toHaveBeenCalledTimes(3);
    expect(answer(result.current.turns)).toMatchObject({ status: "error", error: { code: "disconnected" } });
  });

  it("rejoins a run after a reload from the remembered id", async () => {
    api.joinRunStream.mockReturnValue(stream([token("3", " world"), completed]));
    const { result } = renderHook(() => useAgentChat());
    const live: AssistantTurn = { ...newAssistantTurn("hi"), runId: RUN, threadId: THREAD, text: "Hello" };
    act(() =>
      result.current.load(THREAD, [{ kind: "user", id: "u", text: "hi" }, live], {
        answer: live,
        lastEventId: "2",
      }),
    );
    await waitFor(() => expect(answer(result.current.turns).status).toBe("success"));
    expect(api.joinRunStream.mock.calls[0]?.[0]).toMatchObject({ runId: RUN, lastEventId: "2" });
    expect(answer(result.current.turns).text).toBe("Hello world");
    expect(result.current.turns).toHaveLength(2);
  });

  it("replays from the start when the server doesn't know the remembered id (400)", async () => {
    api.joinRunStream
      .mockReturnValueOnce(stream([new ApiError(400, { detail: "'2' is not an event id of this run" })]))
      .mockReturnValueOnce(stream([started, token("2", "Hello"), token("3", " world"), completed]));
    const { result } = renderHook(() => useAgentChat());
    const live: AssistantTurn = { ...newAssistantTurn("hi"), runId: RUN, threadId: THREAD, text: "Hello" };
    act(() => result.current.load(THREAD, [live], { answer: live, lastEventId: "2" }));
    await waitFor(() => expect(answer(result.current.turns).status).toBe("success"));
    expect(api.joinRunStream.mock.calls[1]?.[0].lastEventId).toBeUndefined();
    expect(answer(result.current.turns).text).toBe("Hello world");
  });

  it("keeps what was shown when the replay only reports how the run ended (its log was lost)", async () => {
    api.joinRunStream
      .mockReturnValueOnce(stream([new ApiError(400, { detail: "'2' is not an event id of this run" })]))
      .mockReturnValueOnce(
        stream([
          [
            undefined as unknown as string,
            { type: "error", code: "interrupted", message: "lost", run_id: RUN },
          ],
        ]),
      );
    const { result } = renderHook(() => useAgentChat());
    const live: AssistantTurn = { ...newAssistantTurn("hi"), runId: RUN, threadId: THREAD, text: "Hello" };
    act(() => result.current.load(THREAD, [live], { answer: live, lastEventId: "2" }));
    await waitFor(() => expect(answer(result.current.turns).status).toBe("interrupted"));
    expect(answer(result.current.turns).text).toBe("Hello");
    // Remembered, so a reload still shows the part this tab saw.
    expect(recallRun(THREAD)).toMatchObject({ runId: RUN, answer: { text: "Hello", status: "interrupted" } });
  });

  it("Stop cancels the run on the server and stops reading", async () => {
    let release: () => void = () => undefined;
    api.streamAgentRun.mockImplementation(async function* (options: { signal: AbortSignal }) {
      yield* stream([started, token("2", "Hel")]);
      await new Promise<void>((resolve) => {
        release = resolve;
        options.signal.addEventListener("abort", () => resolve());
      });
      options.signal.throwIfAborted();
    });
    const { result } = renderHook(() => useAgentChat());
    let sending: Promise<void> = Promise.resolve();
    act(() => {
      sending = result.current.send("hi");
    });
    await waitFor(() => expect(answer(result.current.turns).text).toBe("Hel"));
    act(() => result.current.stop());
    await act(() => sending);
    release();
    expect(api.cancelRun).toHaveBeenCalledWith(RUN);
    expect(answer(result.current.turns).status).toBe("cancelled");
    expect(api.joinRunStream).not.toHaveBeenCalled();
  });
});

type ActiveRunSnapshot = ReturnType<typeof recallRun>;
