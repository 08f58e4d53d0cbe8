import { Client } from "@langchain/langgraph-sdk";
import { describe, expect, test } from "vitest";
import {
  bearerClient,
  echoed,
  failure,
  keyClient,
  newApiKey,
  newUser,
  postRequest,
  protocolUrl,
  revokeApiKey,
  STREAM_MODES,
} from "./support";

// The Agent Protocol through @langchain/langgraph-sdk's own `Client`, against the real backend:
// the calls agent-chat-ui and useStream make, and the shapes they parse.

type Msg = { type: string; content: unknown; id?: string; tool_calls?: { name: string }[] };
type Values = { messages?: Msg[]; __interrupt__?: { id: string; value: Review }[] };
type Review = {
  action_requests: { name: string; args: Record<string, unknown>; description?: string }[];
  review_configs: { action_name: string; allowed_decisions: string[] }[];
};
type Part = { event: string; data: unknown; id?: unknown };

const messages = (values: unknown): Msg[] => (values as Values).messages ?? [];
const humans = (values: unknown) =>
  messages(values)
    .filter((m) => m.type === "human")
    .map((m) => m.content);
const last = (values: unknown): Msg => {
  const all = messages(values);
  const message = all[all.length - 1];
  if (!message) throw new Error("no messages");
  return message;
};
const human = (content: string) => ({ messages: [{ type: "human", content }] });

/** The run id from the stream's first event, `metadata`. */
function runIdOf(parts: Part[]): string {
  const [first] = parts;
  if (first?.event !== "metadata") throw new Error(`the stream began with ${first?.event}`);
  return (first.data as { run_id: string }).run_id;
}

async function collect(stream: AsyncIterable<Part>): Promise<Part[]> {
  const parts: Part[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

async function newClient(): Promise<Client> {
  return bearerClient(await newUser());
}

describe("assistants", () => {
  test("one assistant, graph id `agent`, found by search and usable by graph id", async () => {
    const client = await newClient();
    const found = await client.assistants.search({ graphId: "agent" });
    expect(found).toHaveLength(1);
    const [assistant] = found;
    expect(assistant?.graph_id).toBe("agent");
    const byId = await client.assistants.get(assistant?.assistant_id ?? "");
    const byGraph = await client.assistants.get("agent");
    expect(byGraph.assistant_id).toBe(byId.assistant_id);
    const schemas = await client.assistants.getSchemas("agent");
    expect(Object.keys(schemas.state_schema?.properties ?? {})).toContain("messages");
    const missing = await failure(client.assistants.get(crypto.randomUUID()));
    expect(missing.status).toBe(404);
  });
});

describe("threads", () => {
  test("create, search by graph_id, get, state, history, update, delete", async () => {
    const client = await newClient();
    const thread = await client.threads.create({ metadata: { topic: "demo" } });
    const tid = thread.thread_id;
    expect(thread.status).toBe("idle");
    expect(thread.metadata).toMatchObject({ topic: "demo" });

    const values = await client.runs.wait(tid, "agent", { input: human("hello") });
    expect(humans(values)).toEqual(["hello"]);
    expect(last(values).type).toBe("ai");

    // agent-chat-ui's thread list: search by the graph id the run added to the metadata.
    const found = await client.threads.search({ metadata: { graph_id: "agent" }, limit: 100 });
    expect(found.map((t) => t.thread_id)).toEqual([tid]);
    expect(found[0]?.status).toBe("idle");
    expect(messages(found[0]?.values)[0]?.content).toBe("hello");
    expect(found[0]?.metadata).toMatchObject({ topic: "demo", graph_id: "agent" });

    const got = await client.threads.get(tid);
    expect(got.values).toEqual(values);

    const state = await client.threads.getState(tid);
    expect(state.values).toEqual(values);
    expect(state.next).toEqual([]);
    expect(state.checkpoint.thread_id).toBe(tid);
    expect(state.checkpoint.checkpoint_id).toBeTruthy();

    // One checkpoint per turn, after the empty root the first turn started from (LangGraph's
    // step -1 "input" checkpoint, so the first message can be edited too), newest first.
    const history = await client.threads.getHistory(tid, { limit: 10 });
    expect(history).toHaveLength(2);
    expect(history[0]?.checkpoint).toEqual(state.checkpoint);
    expect(history[0]?.values).toEqual(values);
    expect(history[0]?.parent_checkpoint).toEqual(history[1]?.checkpoint);
    expect(history[1]?.values).toEqual({ messages: [] });
    expect(history[1]?.next).toEqual([]);
    expect(history[1]?.metadata).toMatchObject({ source: "input", step: -1 });
    expect(history[1]?.parent_checkpoint).toBeNull();

    const patched = await client.threads.update(tid, { metadata: { pinned: true } });
    expect(patched.metadata).toMatchObject({ topic: "demo", pinned: true });
    expect((await client.threads.get(tid)).metadata).toMatchObject({ pinned: true });

    await client.threads.delete(tid);
    expect((await failure(client.threads.get(tid))).status).toBe(404);
    expect(await client.threads.search({ metadata: { graph_id: "agent" } })).toEqual([]);
  });

  test("history pages with `before` (the SDK sends a config) and reads state at a checkpoint", async () => {
    const client = await newClient();
    const tid = (await client.threads.create()).thread_id;
    await client.runs.wait(tid, "agent", { input: human("hello") });
    await client.runs.wait(tid, "agent", { input: human("show my items") });
    const history = await client.threads.getHistory(tid, { limit: 10 });
    expect(history).toHaveLength(3); // two turns and the root
    expect(history[0]?.parent_checkpoint).toEqual(history[1]?.checkpoint);
    expect(history[1]?.parent_checkpoint).toEqual(history[2]?.checkpoint);
    const newest = history[0]?.checkpoint;
    if (!newest?.checkpoint_id) throw new Error("no checkpoint id");
    const older = await client.threads.getHistory(tid, {
      limit: 10,
      before: { configurable: { checkpoint_id: newest.checkpoint_id } },
    });
    expect(older.map((h) => h.checkpoint)).toEqual([history[1]?.checkpoint, history[2]?.checkpoint]);

    const firstEnd = history[1];
    if (!firstEnd?.checkpoint.checkpoint_id) throw new Error("no checkpoint id");
    const byId = await client.threads.getState(tid, firstEnd.checkpoint.checkpoint_id);
    expect(byId.values).toEqual(firstEnd.values);
    const byCheckpoint = await client.threads.getState(tid, firstEnd.checkpoint);
    expect(byCheckpoint.checkpoint).toEqual(firstEnd.checkpoint);
    expect(humans(byCheckpoint.values)).toEqual(["hello"]);
  });
});

describe("runs", () => {
  test("stream a turn like agent-chat-ui: metadata first, tokens, the plan, final values", async () => {
    const client = await newClient();
    const tid = (await client.threads.create()).thread_id;
    let created: { run_id: string; thread_id?: string } | undefined;
    const parts = await collect(
      client.runs.stream(tid, "agent", {
        input: human("hello there"),
        streamMode: STREAM_MODES,
        streamSubgraphs: true,
        streamResumable: true,
        onDisconnect: "continue",
        onRunCreated: (meta) => {
          created = meta;
        },
      }),
    );
    const events = parts.map((p) => p.event);
    expect(events[0]).toBe("metadata");
    const runId = runIdOf(parts);
    // The run id the SDK read from Content-Location is the one in the metadata event.
    expect(created).toEqual({ run_id: runId, thread_id: tid });
    expect(events).toEqual(expect.arrayContaining(["values", "messages", "custom"]));
    // Every event carries an SSE id (what a rejoin sends back), each one different but `end`'s,
    // which shares the log entry of the closing `metadata` before it.
    expect(parts.at(-1)?.event).toBe("end");
    expect(parts.at(-1)?.id).toBe(parts.at(-2)?.id);
    const ids = parts.slice(0, -1).map((p) => p.id);
    expect(ids.every((id) => typeof id === "string" && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);

    const final = parts.filter((p) => p.event === "values").at(-1)?.data;
    const answer = last(final);
    expect(answer.type).toBe("ai");
    expect(typeof answer.content === "string" && answer.content.length > 0).toBe(true);
    expect(humans(final)).toEqual(["hello there"]);
    const tokens = parts
      .filter((p) => p.event === "messages")
      .map((p) => (p.data as [Msg, { langgraph_node?: string }])[0])
      .filter((chunk) => chunk.type === "AIMessageChunk");
    expect(tokens.length).toBeGreaterThan(1);
    expect(tokens.map((chunk) => chunk.content).join("")).toBe(answer.content);
    expect(new Set(tokens.map((chunk) => chunk.id))).toEqual(new Set([answer.id]));
    const metadata = parts.find((p) => p.event === "messages")?.data as [Msg, { langgraph_node?: string }];
    expect(metadata[1].langgraph_node).toBeTruthy();
    const plan = parts.find((p) => p.event === "custom")?.data as { type: string; text: string };
    expect(plan.type).toBe("plan");
    expect(plan.text).toBeTruthy();

    // It closes with a second `metadata` event: how the run ended and which model answered.
    expect(events.filter((e) => e !== "end").at(-1)).toBe("metadata");
    expect(events.filter((e) => e === "metadata")).toHaveLength(2);
    expect(parts.filter((p) => p.event === "metadata").at(-1)?.data).toEqual({
      run_id: runId,
      attempt: 1,
      status: "success",
      mode: "normal",
      degraded_reason: null,
      model: "offline-demo",
    });

    const run = await client.runs.get(tid, runId);
    expect(run.status).toBe("success");
    expect((await client.runs.list(tid)).map((r) => r.run_id)).toEqual([runId]);
  });

  test("wait, then a background run joined with join", async () => {
    const client = await newClient();
    const tid = (await client.threads.create()).thread_id;
    const first = await client.runs.wait(tid, "agent", {
      input: { messages: [{ role: "user", content: "hello" }] },
    });
    expect(humans(first)).toEqual(["hello"]);
    const background = await client.runs.create(tid, "agent", {
      input: { messages: [{ type: "human", content: [{ type: "text", text: "show my items" }] }] },
    });
    expect(["pending", "running"]).toContain(background.status);
    const joined = await client.runs.join(tid, background.run_id);
    expect(messages(joined).filter((m) => m.type === "human")).toHaveLength(2);
    expect(last(joined).type).toBe("ai");
    expect((await client.runs.get(tid, background.run_id)).status).toBe("success");
    expect((await client.threads.getState(tid)).values).toEqual(joined);
  });

  test("joinStream with lastEventId resumes after the last event read: none twice, none missing", async () => {
    const client = await newClient();
    const tid = (await client.threads.create()).thread_id;
    // Read part of a resumable stream, then drop the connection mid-answer (the run goes on).
    const head: Part[] = [];
    for await (const part of client.runs.stream(tid, "agent", {
      input: human("hello"),
      streamMode: STREAM_MODES,
      streamResumable: true,
      onDisconnect: "continue",
    })) {
      head.push(part);
      if (head.filter((p) => p.event === "messages").length >= 3) break;
    }
    const runId = runIdOf(head);
    const lastId = head.at(-1)?.id;
    if (typeof lastId !== "string" || !lastId) throw new Error("the stream's events carry no ids");
    expect((await client.runs.get(tid, runId)).status).toBe("running");
    const tail = await collect(
      client.runs.joinStream(tid, runId, { streamMode: STREAM_MODES, lastEventId: lastId }),
    );
    // The whole run, replayed from its start once it has ended.
    const whole = await collect(client.runs.joinStream(tid, runId, { streamMode: STREAM_MODES }));
    const key = (p: Part) => `${p.id} ${p.event} ${JSON.stringify(p.data)}`;
    const seen = [...head, ...tail].map(key);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(whole.map(key));
    expect(tail.filter((p) => p.event === "messages").length).toBeGreaterThan(0);
    expect(last(tail.filter((p) => p.event === "values").at(-1)?.data).type).toBe("ai");
    expect((await client.runs.get(tid, runId)).status).toBe("success");
  });

  test("a stream cut mid-answer is resumed by the SDK itself (Location + Last-Event-ID): none twice, none missing", async () => {
    const user = await newUser();
    const rejoins: (string | null)[] = [];
    let cut = false;
    // A network that drops the first streamed response after ~2 kB, as a flaky connection would.
    const flaky = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const response = await fetch(input, init);
      const url = String(input instanceof Request ? input.url : input);
      if (url.includes("/stream") && init?.method !== "POST")
        rejoins.push(new Headers(init?.headers).get("last-event-id"));
      if (cut || init?.method !== "POST" || !url.endsWith("/runs/stream") || !response.body) return response;
      cut = true;
      const reader = response.body.getReader();
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent > 2000) {
            await reader.cancel();
            controller.error(new TypeError("network connection lost"));
            return;
          }
          const { done, value } = await reader.read();
          if (done) return controller.close();
          sent += value.length;
          controller.enqueue(value);
        },
      });
      return new Response(body, { status: response.status, headers: response.headers });
    };
    const client = new Client({
      apiUrl: protocolUrl,
      apiKey: null,
      defaultHeaders: { Authorization: `Bearer ${user.token}` },
      callerOptions: { fetch: flaky },
    });
    const tid = (await client.threads.create()).thread_id;
    const parts = await collect(
      client.runs.stream(tid, "agent", {
        input: human("tell me a story"),
        streamMode: STREAM_MODES,
        streamResumable: true,
        onDisconnect: "continue",
      }),
    );
    expect(cut).toBe(true);
    // Rejoined once, after the last event it had read.
    expect(rejoins).toHaveLength(1);
    expect(rejoins[0]).toMatch(/^\S+$/);
    const whole = await collect(
      bearerClient(user).runs.joinStream(tid, runIdOf(parts), {
        streamMode: STREAM_MODES,
        lastEventId: "-1",
      }),
    );
    const key = (p: Part) => `${p.id} ${p.event} ${JSON.stringify(p.data)}`;
    expect(parts.map(key)).toEqual(whole.map(key));
    expect(parts.at(-1)?.event).toBe("end");
  });

  test("cancel a run mid-answer: its stream ends, it ends interrupted, the thread takes the next turn", async () => {
    const client = await newClient();
    const tid = (await client.threads.create()).thread_id;
    const parts: Part[] = [];
    let runId = "";
    let cancelled = false;
    for await (const part of client.runs.stream(tid, "agent", {
      input: human("hello"),
      streamMode: STREAM_MODES,
      onRunCreated: (meta) => {
        runId = meta.run_id;
      },
    })) {
      parts.push(part);
      if (part.event === "messages" && !cancelled) {
        expect((await client.runs.get(tid, runId)).status).toBe("running");
        await client.runs.cancel(tid, runId, true);
        cancelled = true;
      }
    }
    expect(cancelled).toBe(true);
    expect((await client.runs.get(tid, runId)).status).toBe("interrupted");
    // The answer was cut short: no final values hold an AI message.
    const values = parts.filter((p) => p.event === "values").map((p) => p.data);
    expect(values.some((v) => messages(v).some((m) => m.type === "ai"))).toBe(false);
    expect((await client.threads.get(tid)).status).toBe("idle");
    const next = await client.runs.wait(tid, "agent", { input: human("hello again") });
    expect(humans(next)).toContain("hello again");
    expect(last(next).type).toBe("ai");
  });

  test("an interrupt carries action_requests and review_configs; a Command with decisions resumes it", async () => {
    const client = await newClient();
    const tid = (await client.threads.create()).thread_id;
    const marker = `approve-${crypto.randomUUID().slice(0, 8)}`;
    const parts = await collect(
      client.runs.stream(tid, "agent", { input: human(postRequest(marker)), streamMode: STREAM_MODES }),
    );
    const paused = parts
      .filter((p) => p.event === "values" && "__interrupt__" in (p.data as Values))
      .map((p) => p.data as Values);
    expect(paused.length).toBeGreaterThan(0);
    const final = paused.at(-1) as Values;
    expect(last(final).type).toBe("ai"); // the inbox draws its card under the AI message
    const request = final.__interrupt__?.[0]?.value;
    expect(request?.action_requests[0]?.name).toBe("http_post");
    expect(JSON.stringify(request?.action_requests[0]?.args)).toContain(marker);
    expect(request?.review_configs[0]?.allowed_decisions).toEqual(["approve", "edit", "reject"]);

    expect((await client.threads.get(tid)).status).toBe("interrupted");
    const state = await client.threads.getState(tid);
    expect(state.tasks[0]?.interrupts[0]?.value).toEqual(request);
    expect((await echoed()).some((body) => body.includes(marker))).toBe(false);

    const resumed = await client.runs.wait(tid, "agent", {
      command: { resume: { decisions: [{ type: "approve" }] } },
    });
    expect(last(resumed).type).toBe("ai");
    expect(String(last(resumed).content)).toContain("answered 200");
    expect((await echoed()).some((body) => body.includes(marker))).toBe(true);
    expect((await client.threads.get(tid)).status).toBe("idle");
  });

  test("branch from an earlier checkpoint (edit a message) and regenerate an answer", async () => {
    const client = await newClient();
    const tid = (await client.threads.create()).thread_id;
    await client.runs.wait(tid, "agent", { input: human("hello") });
    await client.runs.wait(tid, "agent", { input: human("show my items") });
    // Edit the second message (as agent-chat-ui: the parent of the first state that holds it).
    const [secondTurn] = await client.threads.getHistory(tid, { limit: 1 });
    const firstEnd = secondTurn?.parent_checkpoint;
    if (!firstEnd) throw new Error("no first-turn checkpoint");
    const edited = await client.runs.wait(tid, "agent", { input: human("thanks"), checkpoint: firstEnd });
    expect(humans(edited)).toEqual(["hello", "thanks"]);
    // Regenerate the last answer: the parent of the state it first appears in, no input.
    const [latest] = await client.threads.getHistory(tid, { limit: 1 });
    const parent = latest?.parent_checkpoint;
    if (!parent) throw new Error("no parent checkpoint");
    const regenerated = await client.runs.wait(tid, "agent", { input: null, checkpoint: parent });
    expect(humans(regenerated)).toEqual(["hello", "thanks"]);
    expect(last(regenerated).type).toBe("ai");
    expect(last(regenerated).id).not.toBe(last(edited).id);
    // Three branches grow from the first turn's end; the original one is still there.
    const all = await client.threads.getHistory(tid, { limit: 10 });
    const children = all.filter((h) => h.parent_checkpoint?.checkpoint_id === firstEnd.checkpoint_id);
    expect(children.map((h) => humans(h.values).at(-1)).sort()).toEqual([
      "show my items",
      "thanks",
      "thanks",
    ]);
  });
});

describe("stateless runs", () => {
  test("runs.wait and runs.stream without a thread answer on a thread of their own that is then deleted", async () => {
    const client = await newClient();
    const values = await client.runs.wait(null, "agent", { input: human("hello") });
    expect(humans(values)).toEqual(["hello"]);
    expect(last(values).type).toBe("ai");
    const parts = await collect(
      client.runs.stream(null, "agent", { input: human("hello"), streamMode: STREAM_MODES }),
    );
    expect(parts[0]?.event).toBe("metadata");
    expect(last(parts.filter((p) => p.event === "values").at(-1)?.data).type).toBe("ai");
    // on_completion=delete: neither leaves a thread behind.
    await expect.poll(() => client.threads.search({ limit: 10 }), { timeout: 10_000 }).toEqual([]);
  });
});

describe("API keys", () => {
  test("a client with apiKey (sent as X-Api-Key, like agent-chat-ui) acts as its user until the key is revoked", async () => {
    const user = await newUser();
    const { id, key } = await newApiKey(user);
    const byKey = keyClient(key);
    const byToken = bearerClient(user);
    const tid = (await byKey.threads.create()).thread_id;
    const parts = await collect(
      byKey.runs.stream(tid, "agent", { input: human("hello"), streamMode: STREAM_MODES }),
    );
    expect(parts[0]?.event).toBe("metadata");
    expect(last(parts.filter((p) => p.event === "values").at(-1)?.data).type).toBe("ai");
    // The same user's thread, whichever way they authenticate.
    expect(
      (await byToken.threads.search({ metadata: { graph_id: "agent" } })).map((t) => t.thread_id),
    ).toEqual([tid]);
    expect((await byToken.threads.get(tid)).values).toEqual((await byKey.threads.get(tid)).values);

    await revokeApiKey(user, id);
    for (const call of [() => byKey.threads.search(), () => byKey.threads.get(tid)]) {
      const refused = await failure(call());
      expect(refused.status).toBe(401);
      expect(refused.body).toHaveProperty("detail");
    }
    const refusedRun = await failure(byKey.runs.wait(tid, "agent", { input: human("hello again") }));
    expect(refusedRun.status).toBe(401);
    expect(await byToken.runs.list(tid)).toHaveLength(1);
  });
});

describe("isolation and bad input", () => {
  test("another user's thread and run are 404 through every call (to their API key too)", async () => {
    const owner = await newClient();
    const other = keyClient((await newApiKey(await newUser())).key);
    const tid = (await owner.threads.create()).thread_id;
    const run = await owner.runs.create(tid, "agent", { input: human("hello") });
    await owner.runs.join(tid, run.run_id);
    const { checkpoint } = await owner.threads.getState(tid);
    const calls: [string, () => Promise<unknown>][] = [
      ["get", () => other.threads.get(tid)],
      ["getState", () => other.threads.getState(tid)],
      ["getState at a checkpoint id", () => other.threads.getState(tid, checkpoint.checkpoint_id ?? "")],
      ["getState at a checkpoint", () => other.threads.getState(tid, checkpoint)],
      ["getHistory", () => other.threads.getHistory(tid)],
      ["update", () => other.threads.update(tid, { metadata: { stolen: true } })],
      ["delete", () => other.threads.delete(tid)],
      ["runs.list", () => other.runs.list(tid)],
      ["runs.get", () => other.runs.get(tid, run.run_id)],
      ["runs.join", () => other.runs.join(tid, run.run_id)],
      ["runs.cancel", () => other.runs.cancel(tid, run.run_id)],
      ["runs.wait", () => other.runs.wait(tid, "agent", { input: human("hi") })],
      ["runs.stream", () => collect(other.runs.stream(tid, "agent", { input: human("hi") }))],
      ["joinStream", () => collect(other.runs.joinStream(tid, run.run_id))],
    ];
    for (const [name, call] of calls) {
      const { status, body } = await failure(call());
      expect([name, status]).toEqual([name, 404]);
      expect(body).toHaveProperty("detail");
    }
    expect(await other.threads.search({ metadata: { graph_id: "agent" } })).toEqual([]);
    // Nothing changed for the owner.
    expect((await owner.threads.get(tid)).metadata).not.toHaveProperty("stolen");
    expect(await owner.runs.list(tid)).toHaveLength(1);
  });

  test("conflicts and impossible requests are 4xx with a JSON detail and change nothing", async () => {
    const client = await newClient();
    const other = await newClient();
    const tid = (await client.threads.create({ metadata: { topic: "first" } })).thread_id;
    const again = await failure(client.threads.create({ threadId: tid, ifExists: "raise" }));
    expect(again.status).toBe(409);
    expect(again.body).toHaveProperty("detail");
    const kept = await client.threads.create({
      threadId: tid,
      ifExists: "do_nothing",
      metadata: { topic: "second" },
    });
    expect(kept.metadata).toMatchObject({ topic: "first" });

    // Nothing to resume.
    const resume = await failure(
      client.runs.wait(tid, "agent", { command: { resume: { decisions: [{ type: "approve" }] } } }),
    );
    expect(resume.status).toBe(409);
    expect(resume.body).toHaveProperty("detail");

    // A checkpoint of another user's thread.
    const foreign = (await other.threads.create()).thread_id;
    await other.runs.wait(foreign, "agent", { input: human("hello") });
    const [foreignState] = await other.threads.getHistory(foreign, { limit: 1 });
    const stolen = await failure(
      client.runs.wait(tid, "agent", { input: human("hi"), checkpoint: foreignState?.checkpoint }),
    );
    expect(stolen.status).toBe(404);
    expect(await client.runs.list(tid)).toEqual([]);

    // A second run on a busy thread (multitask_strategy defaults to reject).
    const busy = await client.runs.create(tid, "agent", { input: human("hello") });
    const second = await failure(client.runs.create(tid, "agent", { input: human("hello again") }));
    expect(second.status).toBe(409);
    expect(second.body).toHaveProperty("detail");
    await client.runs.join(tid, busy.run_id);
    expect((await client.runs.list(tid)).map((r) => r.run_id)).toEqual([busy.run_id]);
  });

  test("an unknown stream mode or an `ai` message in the input is a 422 with a JSON detail; nothing runs", async () => {
    const client = await newClient();
    const tid = (await client.threads.create()).thread_id;
    const bogus = await failure(
      client.runs.create(tid, "agent", {
        input: human("hello"),
        streamMode: "bogus" as unknown as "values",
      }),
    );
    expect(bogus.status).toBe(422);
    expect(Array.isArray((bogus.body as { detail: unknown }).detail)).toBe(true);
    const aiInput = await failure(
      client.runs.wait(tid, "agent", { input: { messages: [{ type: "ai", content: "I said this" }] } }),
    );
    expect(aiInput.status).toBe(422);
    expect(aiInput.body).toHaveProperty("detail");
    expect(await client.runs.list(tid)).toEqual([]);
    expect((await client.threads.getState(tid)).values).toEqual({});
  });
});
