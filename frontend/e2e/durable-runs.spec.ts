import { type APIRequestContext, expect, type Page, test } from "@playwright/test";
import { chatUser, lastAnswer, sendMessage, waitForStatus } from "./support/agent";
import { KillableBackend } from "./support/backend";
import { createUser, logInViaApi } from "./support/users";

// The offline model's answer to anything it doesn't understand: long enough to reload in.
const STORY = "tell me a long story";
// The chat rejoins over the Agent Protocol (useStream's joinStream).
const JOIN_URL = /\/agent-protocol\/threads\/[0-9a-f-]{36}\/runs\/[0-9a-f-]{36}\/stream/;

const normalise = (text: string | null) => (text ?? "").replace(/\s+/g, " ").trim();

// A long answer (a list of this many items) at the tests' model speed: it is still streaming
// when a page reloads or another tab opens, even on a busy machine.
const ITEMS = 30;
const LIST = "show my items";

/** The items an answer lists, by number: a rejoin must neither lose nor repeat one. */
function listed(text: string): number[] {
  return [...text.matchAll(/Notebook (\d+) /g)].map((match) => Number(match[1]));
}

/** Listed once each, and the same items as the run's final response in the API. */
async function expectSameItemsOnce(request: APIRequestContext, token: string, text: string) {
  const response = await request.get("/api/v1/agent/runs", { headers: { Authorization: `Bearer ${token}` } });
  const { data } = (await response.json()) as { data: { status: string; response: string | null }[] };
  expect(data[0]?.status).toBe("success");
  const shown = listed(text);
  expect(new Set(shown).size).toBe(shown.length);
  expect(shown.length).toBeGreaterThan(5);
  expect([...shown].sort()).toEqual(listed((data[0]?.response ?? "").replace(/\*\*/g, "")).sort());
}

/** Send the list request and wait until its first items have streamed in. */
async function startLongList(page: Page) {
  await sendMessage(page, LIST);
  await expect(lastAnswer(page).getByTestId("answer")).toContainText("Notebook");
  await expect(page).toHaveURL(/\/chat\?thread=[0-9a-f-]{36}$/);
  await expect(lastAnswer(page)).toHaveAttribute("data-status", "streaming");
}

/**
 * Send the long message and wait until part of the answer has streamed in (or, with
 * `shown: false`, only until the run is going: the output guardrails hold back the first
 * 128 characters, a good part of this answer at the tests' slow model speed).
 */
async function startLongAnswer(page: Page, { shown = true } = {}) {
  await sendMessage(page, STORY);
  if (shown) await expect(lastAnswer(page).getByTestId("answer")).toContainText("offline demo model");
  await expect(page).toHaveURL(/\/chat\?thread=[0-9a-f-]{36}$/);
  await expect(lastAnswer(page)).toHaveAttribute("data-status", "streaming");
}

test("a reload during a streamed answer rejoins it in place and streams on, exactly once", async ({
  page,
  request,
}) => {
  const user = await chatUser(page, request, ITEMS);
  await page.goto("/chat");
  await startLongList(page);

  const joined = page.waitForRequest(JOIN_URL);
  await page.reload();
  // Rejoined from the start of the run's stream (`-1`, as the SDK asks): its values events carry
  // the whole state, so nothing shows twice.
  expect(await (await joined).headerValue("last-event-id")).toBe("-1");

  const answer = lastAnswer(page);
  await expect(page.getByTestId("user-message")).toHaveText(LIST);
  await expect(answer).toHaveAttribute("data-status", "streaming");
  await waitForStatus(page, "success");
  await expect(page.getByTestId("user-message")).toHaveCount(1);
  await expect(page.getByTestId("assistant-message")).toHaveCount(1);
  await expectSameItemsOnce(request, user.token, normalise(await answer.getByTestId("answer").textContent()));
});

test("a tab that doesn't remember the run replays it from the start, exactly once", async ({
  page,
  request,
}) => {
  const user = await chatUser(page, request, ITEMS);
  await page.goto("/chat");
  await sendMessage(page, LIST);
  await expect(page).toHaveURL(/\/chat\?thread=[0-9a-f-]{36}$/);
  // Another tab (its own sessionStorage, same login): the runs list says the turn is running.
  const other = await page.context().newPage();
  const joined = other.waitForRequest(JOIN_URL);
  await other.goto(page.url());
  expect(await (await joined).headerValue("last-event-id")).toBe("-1");

  await waitForStatus(other, "success");
  await expect(other.getByTestId("user-message")).toHaveCount(1);
  await expect(other.getByTestId("assistant-message")).toHaveCount(1);
  const shown = normalise(await lastAnswer(other).getByTestId("answer").textContent());
  await expectSameItemsOnce(request, user.token, shown);
  // The first tab followed the same run to the same end.
  await waitForStatus(page, "success");
  expect(normalise(await lastAnswer(page).getByTestId("answer").textContent())).toBe(shown);
});

test("a backend killed mid-run: one outage notice, the list kept, then by itself the turn shows interrupted; Retry answers it once", async ({
  page,
  playwright,
}, testInfo) => {
  test.setTimeout(180_000);
  // A server of its own (SQLite, in-process worker) that this test may SIGKILL; a short lease so
  // the restarted server marks the killed run interrupted within seconds.
  const backend = new KillableBackend(8790 + testInfo.workerIndex, {
    OFFLINE_MODEL_TOKENS_PER_SECOND: "12",
    AGENT_RUN_LEASE_SECONDS: "2",
  });
  await backend.start();
  const api = await playwright.request.newContext({ baseURL: backend.url });
  try {
    const user = await createUser(api);
    await logInViaApi(page, user, backend.url);
    await page.goto(`${backend.url}/chat`);
    await startLongAnswer(page);
    const conversations = page.getByRole("navigation", { name: "Conversations" }).first();
    await expect(conversations).toContainText(STORY);

    await backend.kill();
    // One friendly notice while it is down; the conversation list keeps its last state.
    const notice = page.getByTestId("chat-failure");
    await expect(notice).toHaveCount(1, { timeout: 45_000 });
    await expect(notice).toContainText("Can't reach the server. Reconnecting…");
    await expect(page.getByText(/Failed to fetch|network error/i)).toHaveCount(0);
    await expect(conversations).toContainText(STORY);
    await page.screenshot({ path: "test-results/screens/chat-outage.png", fullPage: true });

    await backend.start();
    // No reload: the chat reconnects by itself and shows what happened, with a Retry.
    await expect(notice).toHaveCount(0, { timeout: 45_000 });
    await expect(page.getByTestId("user-message")).toHaveText(STORY);
    await waitForStatus(page, "interrupted", 45_000);
    await expect(lastAnswer(page).getByTestId("turn-status")).toContainText(
      "Interrupted — the server stopped during this answer",
    );
    // The part this tab saw stream in before the crash is still shown (it never reached the
    // checkpoint, and the embedded event log died with the process).
    await expect(lastAnswer(page).getByTestId("answer")).toContainText("offline demo model");
    // The thread's history agrees (not just this page's memory).
    await page.reload();
    await expect(page.getByTestId("user-message")).toHaveAttribute("data-run-status", "interrupted");
    await waitForStatus(page, "interrupted");
    await expect(lastAnswer(page).getByTestId("answer")).toContainText("offline demo model");
    // The thread list flags it (thread status `error`: its last turn did not complete).
    await expect(conversations.getByTestId("thread-status")).toHaveText("didn't finish");
    await page.screenshot({ path: "test-results/interrupted-turn.png", fullPage: true });

    await lastAnswer(page).getByRole("button", { name: "Retry" }).click();
    await waitForStatus(page, "success", 45_000);
    await expect(lastAnswer(page).getByTestId("answer")).toContainText("offline demo model");
    // The retry stands for the interrupted turn: the question once, no Retry left.
    await expect(page.getByTestId("user-message")).toHaveCount(1);
    await expect(page.getByRole("button", { name: "Retry" })).toHaveCount(0);

    await page.reload();
    await expect(page.getByTestId("user-message")).toHaveCount(1);
    await waitForStatus(page, "success");
    await expect(page.getByRole("button", { name: "Retry" })).toHaveCount(0);
  } finally {
    await api.dispose();
    await backend.stop();
  }
});
