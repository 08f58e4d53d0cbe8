import { afterEach, describe, expect, it } from "vitest";
import { forgetRun, recallRun, rememberRun } from "../active-run";
import { newAssistantTurn } from "../turns";

const THREAD = "22222222-2222-4222-8222-222222222222";
const RUN = "33333333-3333-4333-8333-333333333333";

afterEach(() => sessionStorage.clear());

describe("active run memory", () => {
  it("remembers the run, its last event id and the answer per thread, until forgotten", () => {
    const answer = { ...newAssistantTurn("hi"), text: "Hel" };
    rememberRun({ threadId: THREAD, runId: RUN, lastEventId: "1733051234567-3", answer });
    expect(recallRun(THREAD)).toEqual({
      threadId: THREAD,
      runId: RUN,
      lastEventId: "1733051234567-3",
      answer,
    });
    expect(recallRun("another-thread")).toBeNull();
    forgetRun(THREAD);
    expect(recallRun(THREAD)).toBeNull();
  });

  it("ignores what it can't read back", () => {
    sessionStorage.setItem(`agent-active-run:${THREAD}`, "{not json");
    expect(recallRun(THREAD)).toBeNull();
    sessionStorage.setItem(`agent-active-run:${THREAD}`, JSON.stringify({ threadId: THREAD, runId: RUN }));
    expect(recallRun(THREAD)).toBeNull();
  });
});
