import { expect, test } from "@playwright/test";
import { chatUser, lastAnswer, sendMessage, waitForStatus } from "./support/agent";
import { createUser, logInViaApi } from "./support/users";

test("the answer streams in token by token, after the plan and the tool call", async ({ page, request }) => {
  await chatUser(page, request, 3);
  await page.goto("/chat");
  await expect(page.getByText(/characters$/)).toHaveText(/0 \/ [\d,]+ characters/);
  await sendMessage(page, "show my items");

  const answer = lastAnswer(page);
  await expect(answer.getByTestId("plan")).toBeVisible();
  await expect(answer.getByTestId("plan")).toContainText("lookup_user_items");
  await expect(answer.getByTestId("tool-call")).toContainText("lookup_user_items");

  // Watch the answer grow while the run is still going.
  const lengths: number[] = [];
  const bubble = answer.getByTestId("answer");
  await expect(bubble).toBeVisible();
  while ((await answer.getAttribute("data-status")) === "streaming") {
    const text = (await bubble.textContent()) ?? "";
    if (text.length !== lengths.at(-1)) lengths.push(text.length);
    await page.waitForTimeout(100);
  }
  expect(lengths.length, `answer lengths seen while streaming: ${lengths}`).toBeGreaterThanOrEqual(2);
  expect([...lengths].sort((a, b) => a - b)).toEqual(lengths);

  await waitForStatus(page, "success");
  await expect(bubble).toContainText("Notebook 1");
  await expect(bubble).toContainText("Notebook 3");
  const stats = answer.getByTestId("run-stats");
  await expect(stats).toContainText(/\d+(\.\d)? (ms|s)/);
  await expect(stats).toContainText(/\d+ tokens/);
  await page.screenshot({ path: "test-results/chat.png", fullPage: true });

  // The tool call expands to its arguments and real result.
  await answer.getByTestId("tool-call").getByRole("button").click();
  await expect(answer.getByTestId("tool-call")).toContainText("Result");
  await expect(answer.getByTestId("tool-call")).toContainText("Notebook 2");
});

test("Shift+Enter adds a line and Enter sends", async ({ page, request }) => {
  await chatUser(page, request);
  await page.goto("/chat");
  const input = page.getByLabel("Message the agent");
  await input.fill("first line");
  await input.press("Shift+Enter");
  await input.pressSequentially("second line");
  await expect(input).toHaveValue("first line\nsecond line");
  await expect(page.getByTestId("user-message")).toHaveCount(0);
  await input.press("Enter");
  await expect(page.getByTestId("user-message")).toHaveText("first line\nsecond line");
  await expect(input).toHaveValue("");
  await waitForStatus(page, "success");
});

test("Stop cancels a long answer on the server", async ({ page, request }) => {
  const user = await chatUser(page, request);
  await page.goto("/chat");
  await sendMessage(page, "tell me a long story");
  const answer = lastAnswer(page);
  await expect(answer.getByTestId("answer")).not.toBeEmpty();
  await page.getByRole("button", { name: "Stop" }).click();

  await waitForStatus(page, "cancelled");
  await expect(answer).toContainText("Stopped.");
  const frozen = await answer.getByTestId("answer").textContent();
  await page.waitForTimeout(1500);
  await expect(answer.getByTestId("answer")).toHaveText(frozen ?? "");
  await expect(page.getByRole("button", { name: "Send" })).toBeVisible();

  // The server agrees: the run is cancelled, not finished in the background.
  const runs = await request.get("/api/v1/agent/runs", {
    headers: { Authorization: `Bearer ${user.token}` },
  });
  const { data } = (await runs.json()) as { data: { status: string; response: string | null }[] };
  await expect
    .poll(async () => {
      const again = await request.get("/api/v1/agent/runs", {
        headers: { Authorization: `Bearer ${user.token}` },
      });
      return ((await again.json()) as { data: { status: string }[] }).data[0]?.status;
    })
    .toBe("cancelled");
  expect(data).toHaveLength(1);

  // Retry runs the same message again.
  await answer.getByRole("button", { name: "Retry" }).click();
  await expect(page.getByTestId("user-message")).toHaveCount(2);
});

test("a reload keeps the conversation and the next message continues it", async ({ page, request }) => {
  await chatUser(page, request, 1);
  await page.goto("/chat");
  await sendMessage(page, "show my items");
  await waitForStatus(page, "success");
  await expect(page).toHaveURL(/\/chat\?thread=[0-9a-f-]{36}$/);
  const url = page.url();

  await page.reload();
  await expect(page).toHaveURL(url);
  await expect(page.getByTestId("user-message")).toHaveText("show my items");
  await expect(lastAnswer(page).getByTestId("answer")).toContainText("Notebook 1");
  await expect(page.getByRole("navigation", { name: "Conversations" }).first()).toContainText(
    "show my items",
  );

  await sendMessage(page, "what did I say earlier?");
  await waitForStatus(page, "success");
  await expect(lastAnswer(page)).toContainText("Earlier in this conversation you said: “show my items”");
  await expect(page).toHaveURL(url);

  // New chat starts empty; back returns to the conversation.
  await page.getByRole("button", { name: "New chat" }).first().click();
  await expect(page).toHaveURL(/\/chat$/);
  await expect(page.getByTestId("user-message")).toHaveCount(0);
  await page.goBack();
  await expect(page).toHaveURL(url);
  await expect(page.getByTestId("user-message")).toHaveCount(2);
});

test("run history lists the runs and the run detail opens", async ({ page, request }) => {
  await chatUser(page, request, 2);
  await page.goto("/chat");
  await sendMessage(page, "show my items");
  await waitForStatus(page, "success");
  await sendMessage(page, "who is admin@example.com?");
  await waitForStatus(page, "success");

  await page.getByRole("link", { name: "Run history" }).first().click();
  const table = page.getByRole("table", { name: "Runs" });
  await expect(table.getByRole("row")).toHaveCount(3);
  await expect(table.getByRole("row").nth(1)).toContainText("who is admin@example.com?");
  await expect(table.getByRole("row").nth(2)).toContainText("show my items");
  await expect(table.getByRole("row").nth(1)).toContainText("success");

  await page.getByLabel("Status").selectOption("error");
  await expect(page).toHaveURL(/status=error/);
  await expect(page.getByText("No runs found")).toBeVisible();
  await page.getByRole("button", { name: "Clear filters" }).click();
  await expect(table.getByRole("row")).toHaveCount(3);
  await page.screenshot({ path: "test-results/run-history.png", fullPage: true });

  await table.getByRole("link", { name: "show my items" }).click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { name: "Run detail" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Input" })).toBeVisible();
  await expect(page.getByText("Notebook 2").first()).toBeVisible();
  await expect(page.getByRole("heading", { name: /Tool calls \(1\)/ })).toBeVisible();

  // Thumbs up with a comment is saved, survives a reload, and can be changed.
  await page.getByLabel("Comment (optional)").fill("Listed both notebooks");
  await page.getByRole("button", { name: "Helpful", exact: true }).click();
  await expect(page.getByText("Feedback saved")).toBeVisible();
  await page.reload();
  await expect(page.getByRole("button", { name: "Helpful", exact: true })).toHaveAttribute(
    "aria-pressed",
    "true",
  );
  await expect(page.getByLabel("Comment (optional)")).toHaveValue("Listed both notebooks");
  await page.getByRole("button", { name: "Not helpful" }).click();
  await expect(page.getByRole("button", { name: "Not helpful" })).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByRole("button", { name: "Helpful", exact: true })).toHaveAttribute(
    "aria-pressed",
    "false",
  );
  // A full-page capture of a scrolled page draws the fixed sidebar at the scroll offset.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: "test-results/run-detail.png", fullPage: true });
});

test("a conversation is deleted after confirmation", async ({ page, request }) => {
  const user = await chatUser(page, request);
  await page.goto("/chat");
  await sendMessage(page, "show my items");
  await waitForStatus(page, "success");
  const threadId = new URL(page.url()).searchParams.get("thread");
  const conversations = page.getByRole("navigation", { name: "Conversations" }).first();
  await conversations.getByRole("button", { name: /^Delete conversation/ }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Delete" }).click();
  await expect(page.getByText("Conversation deleted")).toBeVisible();
  await expect(conversations).toContainText("No conversations yet.");
  await expect(page).toHaveURL(/\/chat$/);

  const response = await request.get(`/api/v1/agent/threads/${threadId}`, {
    headers: { Authorization: `Bearer ${user.token}` },
  });
  expect(response.status()).toBe(404);
});

test("another user cannot open someone's conversation or run", async ({ page, request, browser }) => {
  await chatUser(page, request, 1);
  await page.goto("/chat");
  await sendMessage(page, "show my items");
  await waitForStatus(page, "success");
  const threadUrl = new URL(page.url());
  await lastAnswer(page).getByRole("link", { name: "Run details" }).click();
  await expect(page.getByRole("heading", { name: "Run detail" })).toBeVisible();
  const runPath = new URL(page.url()).pathname;

  const intruder = await createUser(request);
  const context = await browser.newContext();
  const other = await context.newPage();
  await logInViaApi(other, intruder);
  await other.goto(`${threadUrl.pathname}${threadUrl.search}`);
  await expect(other.getByText("Conversation not found.")).toBeVisible();
  await expect(other.getByTestId("user-message")).toHaveCount(0);
  await other.goto(runPath);
  await expect(other.getByText("Run not found.")).toBeVisible();
  await context.close();
});
