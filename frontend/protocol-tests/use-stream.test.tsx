// @vitest-environment jsdom
import { useStream } from "@langchain/langgraph-sdk/react";
import { act, cleanup, render, screen, waitFor, within } from "@testing-library/react";
import { useState } from "react";
import { afterEach, expect, test } from "vitest";
import { echoed, keyClient, newApiKey, newUser, postRequest, protocolUrl } from "./support";

// `useStream` from @langchain/langgraph-sdk/react, rendered in jsdom against the real backend with a
// personal API key, as agent-chat-ui uses it (send, stream, reopen, interrupt, resume, branch).

type Review = {
  action_requests: { name: string; args: Record<string, unknown> }[];
  review_configs: { action_name: string; allowed_decisions: string[] }[];
};
type Handle = {
  current: ReturnType<typeof useChat> | null;
  threadIds: string[];
  // What each render showed as the newest AI message while a run was streaming.
  streamed: string[];
  // The `metadata` events `onMetadataEvent` received.
  metadata: Record<string, unknown>[];
};

const newHandle = (): Handle => ({ current: null, threadIds: [], streamed: [], metadata: [] });

/** The rendered stream and its messages by index, failing loudly when absent. */
const accessors = (handle: Handle) => {
  const stream = () => {
    if (!handle.current) throw new Error("not rendered");
    return handle.current;
  };
  const message = (index: number) => {
    const found = stream().messages[index];
    if (!found) throw new Error(`no message ${index}`);
    return found;
  };
  return { stream, message };
};

afterEach(cleanup);

function text(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((part) => (part as { text?: string }).text ?? "").join("");
  return "";
}

type ChatProps = { apiKey: string; handle: Handle; reopen?: string };

/** A new user's personal API key: agent-chat-ui's way in. */
async function newKey(): Promise<string> {
  return (await newApiKey(await newUser())).key;
}

function useChat({ apiKey, handle, reopen }: ChatProps) {
  const [threadId, setThreadId] = useState<string | null>(reopen ?? null);
  return useStream<Record<string, unknown>, { InterruptType: Review }>({
    apiUrl: protocolUrl,
    apiKey,
    assistantId: "agent",
    messagesKey: "messages",
    threadId,
    // Like agent-chat-ui: state, interrupts and branches come from the thread's history.
    fetchStateHistory: true,
    onThreadId: (id) => {
      handle.threadIds.push(id);
      setThreadId(id);
    },
    onMetadataEvent: (data) => handle.metadata.push(data),
  });
}

function Chat(props: ChatProps) {
  const { handle } = props;
  const stream = useChat(props);
  handle.current = stream;
  const newest = stream.messages.at(-1);
  if (stream.isLoading && newest?.type === "ai") handle.streamed.push(text(newest.content));
  return (
    <main data-loading={String(stream.isLoading)}>
      <ol aria-label="messages">
        {stream.messages.map((message, index) => (
          <li key={message.id ?? index} data-type={message.type}>
            {text(message.content)}
          </li>
        ))}
      </ol>
      {stream.interrupt ? (
        <section aria-label="review">{stream.interrupt.value?.action_requests[0]?.name}</section>
      ) : null}
      {stream.error ? <p role="alert">{String(stream.error)}</p> : null}
    </main>
  );
}

function listed(): { type: string | null; text: string }[] {
  return within(screen.getByRole("list", { name: "messages" }))
    .queryAllByRole("listitem")
    .map((item) => ({ type: item.getAttribute("data-type"), text: item.textContent ?? "" }));
}

/** Submit as a click handler would (not awaited inside act, so React renders as events arrive),
 * then wait until the run has ended. */
async function submit(handle: Handle, ...args: Parameters<NonNullable<Handle["current"]>["submit"]>) {
  let pending: Promise<unknown> | undefined;
  act(() => {
    pending = handle.current?.submit(...args);
  });
  await waitFor(() => expect(handle.current?.isLoading).toBe(false), { timeout: 30_000 });
  await pending;
  expect(screen.queryByRole("alert")).toBeNull();
}

test("useStream: a first turn creates the thread, a second continues it; the AI answer streams in", async () => {
  const apiKey = await newKey();
  const handle = newHandle();
  render(<Chat apiKey={apiKey} handle={handle} />);
  // agent-chat-ui's submit options (the hook adds messages-tuple because `messages` is read).
  const options = { streamMode: ["values" as const], streamSubgraphs: true, streamResumable: true };
  await submit(handle, { messages: [{ type: "human", content: "hello" }] }, options);
  expect(handle.threadIds).toHaveLength(1);
  expect(listed().map((m) => m.type)).toEqual(["human", "ai"]);
  expect(listed()[0]?.text).toBe("hello");
  const answer = listed()[1]?.text ?? "";
  expect(answer).toContain("offline demo model");
  // Token by token: renders during the run showed a growing prefix of the final answer.
  const partial = handle.streamed.filter((shown) => shown.length > 0 && shown.length < answer.length);
  expect(partial.length).toBeGreaterThan(1);
  expect(partial.every((shown) => answer.startsWith(shown))).toBe(true);
  // `onMetadataEvent` got the run's first event and its closing one: who answered, in which mode.
  const [opening, closing] = handle.metadata;
  expect(handle.metadata).toHaveLength(2);
  expect(closing).toMatchObject({ run_id: opening?.run_id, mode: "normal", degraded_reason: null });
  expect(closing?.model).toBe("offline-demo");

  await submit(handle, { messages: [{ type: "human", content: "what did I say earlier?" }] }, options);
  expect(listed().map((m) => m.type)).toEqual(["human", "ai", "human", "ai"]);
  expect(listed()[3]?.text).toContain("\u201chello\u201d");
  // The same thread: the server holds all four messages, and the user has this one thread.
  expect(new Set(handle.threadIds).size).toBe(1);
  const [threadId] = handle.threadIds;
  const client = handle.current?.client;
  if (!client || !threadId) throw new Error("no client or thread");
  expect((await client.threads.search({ limit: 10 })).map((t) => t.thread_id)).toEqual([threadId]);
  const state = await client.threads.getState<{ messages: unknown[] }>(threadId);
  expect(state.values.messages).toHaveLength(4);
});

test("useStream: an interrupt shows in stream.interrupt; submit with a Command rejects it", async () => {
  const apiKey = await newKey();
  const handle = newHandle();
  render(<Chat apiKey={apiKey} handle={handle} />);
  const marker = `reject-${crypto.randomUUID().slice(0, 8)}`;
  await submit(handle, { messages: [{ type: "human", content: postRequest(marker) }] });
  expect(screen.getByRole("region", { name: "review" }).textContent).toBe("http_post");
  const interrupt = handle.current?.interrupt?.value;
  expect(JSON.stringify(interrupt?.action_requests[0]?.args)).toContain(marker);
  expect(interrupt?.review_configs[0]?.allowed_decisions).toEqual(["approve", "edit", "reject"]);
  expect(listed().at(-1)?.type).toBe("ai");
  const before = listed().length;

  await submit(handle, undefined, {
    command: { resume: { decisions: [{ type: "reject", message: "no" }] } },
  });
  expect(handle.current?.interrupt).toBeUndefined();
  expect(screen.queryByRole("region", { name: "review" })).toBeNull();
  expect(listed().length).toBeGreaterThan(before);
  expect(listed().at(-1)?.type).toBe("ai");
  expect(new Set(handle.threadIds).size).toBe(1);
  expect((await echoed()).some((body) => body.includes(marker))).toBe(false);
});

test("useStream: reopening a paused thread loads its messages and interrupt from history; approving resumes it", async () => {
  const apiKey = await newKey();
  const client = keyClient(apiKey);
  const threadId = (await client.threads.create()).thread_id;
  await client.runs.wait(threadId, "agent", { input: { messages: [{ type: "human", content: "hello" }] } });
  const marker = `approve-${crypto.randomUUID().slice(0, 8)}`;
  const paused = await client.runs.wait(threadId, "agent", {
    input: { messages: [{ type: "human", content: postRequest(marker) }] },
  });
  expect(paused).toHaveProperty("__interrupt__");

  const handle = newHandle();
  render(<Chat apiKey={apiKey} handle={handle} reopen={threadId} />);
  await waitFor(() => expect(screen.getByRole("region", { name: "review" }).textContent).toBe("http_post"), {
    timeout: 15_000,
  });
  expect(listed().map((m) => m.type)).toEqual(["human", "ai", "human", "ai"]);
  expect(listed()[2]?.text).toBe(postRequest(marker));
  expect(JSON.stringify(handle.current?.interrupt?.value?.action_requests[0]?.args)).toContain(marker);

  await submit(handle, undefined, { command: { resume: { decisions: [{ type: "approve" }] } } });
  expect(screen.queryByRole("region", { name: "review" })).toBeNull();
  expect(listed().at(-1)?.text).toContain("answered 200");
  expect((await echoed()).some((body) => body.includes(marker))).toBe(true);
  expect(handle.threadIds).toEqual([]);
  expect((await client.threads.get(threadId)).status).toBe("idle");
});

test("useStream: edit a message and regenerate an answer from their checkpoints, as agent-chat-ui does; switch branches", async () => {
  const apiKey = await newKey();
  const client = keyClient(apiKey);
  const threadId = (await client.threads.create()).thread_id;
  for (const content of ["hello", "what did I say earlier?"]) {
    await client.runs.wait(threadId, "agent", { input: { messages: [{ type: "human", content }] } });
  }
  const handle = newHandle();
  render(<Chat apiKey={apiKey} handle={handle} reopen={threadId} />);
  await waitFor(() => expect(listed()).toHaveLength(4), { timeout: 15_000 });
  const { stream, message } = accessors(handle);

  const originalAnswer = message(3).id;

  // Edit the second question: a new run from the checkpoint before it.
  const edited = stream().getMessagesMetadata(message(2), 2)?.firstSeenState?.parent_checkpoint;
  expect(edited?.checkpoint_id).toBeTruthy();
  await submit(handle, { messages: [{ type: "human", content: "thanks" }] }, { checkpoint: edited });
  expect(listed().map((m) => m.type)).toEqual(["human", "ai", "human", "ai"]);
  expect(
    listed()
      .filter((m) => m.type === "human")
      .map((m) => m.text),
  ).toEqual(["hello", "thanks"]);
  expect(stream().getMessagesMetadata(message(2), 2)?.branchOptions).toHaveLength(2);
  const editedAnswer = message(3).id;

  // Regenerate the last answer: a run from the parent of the state it first appears in, no input.
  const regenerate = stream().getMessagesMetadata(message(3), 3)?.firstSeenState?.parent_checkpoint;
  expect(regenerate?.checkpoint_id).toBeTruthy();
  await submit(handle, undefined, { checkpoint: regenerate });
  expect(listed().map((m) => m.text)[2]).toBe("thanks");
  expect(listed()).toHaveLength(4);
  const regeneratedAnswer = message(3).id;
  expect(regeneratedAnswer).not.toBe(editedAnswer);

  // One checkpoint per turn: all three versions of the turn are branches at its question.
  const branches = stream().getMessagesMetadata(message(2), 2)?.branchOptions ?? [];
  expect(branches).toHaveLength(3);
  const shown: string[] = [];
  for (const branch of branches) {
    act(() => stream().setBranch(branch));
    await waitFor(() => expect(stream().branch).toBe(branch));
    shown.push(`${listed()[2]?.text} -> ${message(3).id}`);
  }
  expect(shown.sort()).toEqual(
    [
      `what did I say earlier? -> ${originalAnswer}`,
      `thanks -> ${editedAnswer}`,
      `thanks -> ${regeneratedAnswer}`,
    ].sort(),
  );
  expect(handle.threadIds).toEqual([]);
});

test("useStream: the first message is edited and its answer regenerated from the thread's root checkpoint; switch branches", async () => {
  const apiKey = await newKey();
  const handle = newHandle();
  render(<Chat apiKey={apiKey} handle={handle} />);
  await submit(handle, { messages: [{ type: "human", content: "hello" }] });
  await waitFor(() => expect(listed()).toHaveLength(2));
  const { stream, message } = accessors(handle);
  const originalAnswer = message(1).id;

  // The first message has a checkpoint before it (the empty root its turn started from).
  const root = stream().getMessagesMetadata(message(0), 0)?.firstSeenState?.parent_checkpoint;
  expect(root?.checkpoint_id).toBeTruthy();
  expect(stream().getMessagesMetadata(message(0), 0)?.branchOptions).toBeUndefined();

  // Regenerate the first answer: no input, from the root.
  await submit(handle, undefined, { checkpoint: root });
  expect(listed().map((m) => m.text)[0]).toBe("hello");
  expect(listed()).toHaveLength(2);
  const regeneratedAnswer = message(1).id;
  expect(regeneratedAnswer).not.toBe(originalAnswer);
  await waitFor(() => expect(stream().getMessagesMetadata(message(0), 0)?.branchOptions).toHaveLength(2));

  // Edit the first message: a third version from the same root.
  const again = stream().getMessagesMetadata(message(0), 0)?.firstSeenState?.parent_checkpoint;
  expect(again?.checkpoint_id).toBe(root?.checkpoint_id);
  await submit(handle, { messages: [{ type: "human", content: "thanks" }] }, { checkpoint: root });
  expect(listed().map((m) => m.type)).toEqual(["human", "ai"]);
  expect(listed()[0]?.text).toBe("thanks");
  const editedAnswer = message(1).id;

  await waitFor(() => expect(stream().getMessagesMetadata(message(0), 0)?.branchOptions).toHaveLength(3));
  const branches = stream().getMessagesMetadata(message(0), 0)?.branchOptions ?? [];
  const shown: string[] = [];
  for (const branch of branches) {
    act(() => stream().setBranch(branch));
    await waitFor(() => expect(stream().branch).toBe(branch));
    shown.push(`${listed()[0]?.text} -> ${message(1).id}`);
  }
  expect(shown.sort()).toEqual(
    [`hello -> ${originalAnswer}`, `hello -> ${regeneratedAnswer}`, `thanks -> ${editedAnswer}`].sort(),
  );
  // One thread throughout: the branches are its checkpoints.
  expect(handle.threadIds).toHaveLength(1);
});
