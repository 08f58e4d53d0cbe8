import { expect, type Page, test } from "@playwright/test";
import {
  axeViolations,
  expectNoHorizontalOverflow,
  expectTheme,
  iconContrast,
  THEMES,
  type Theme,
  useTheme,
  VIEWPORTS,
} from "./support/a11y";
import { chatUser, lastAnswer, sendMessage, waitForStatus } from "./support/agent";

// The chat over the Agent Protocol (@langchain/langgraph-sdk's useStream): copy, regenerate,
// edit, branches (the first message's too), feedback, and bad input — at desktop and phone
// width, in the light and the dark theme.

const userMessages = (page: Page) => page.getByTestId("user-message");

/** The branch controls and message actions are drawn legibly in this theme: visible, every
 * enabled icon button at 3:1 or more against its background, and no serious axe-core violation
 * (text contrast included) on the page. */
async function expectLegibleControls(page: Page, theme: Theme, name: string) {
  await expectTheme(page, theme);
  const controls = [
    page.getByTestId("branch-switcher").getByRole("button", { disabled: false }),
    page.getByRole("button", { name: "Edit message" }),
    page.getByRole("button", { name: "Copy answer" }),
    page.getByRole("button", { name: "Regenerate answer" }),
  ];
  for (const control of controls) {
    const buttons = await control.all();
    expect(buttons.length, `${name}: ${control}`).toBeGreaterThan(0);
    for (const button of buttons) {
      await expect(button).toBeVisible();
      expect(await iconContrast(button), `${name}: ${control} contrast`).toBeGreaterThanOrEqual(3);
    }
  }
  await expect(page.getByTestId("branch-position").first()).toBeVisible();
  expect(await axeViolations(page), `${name}: serious/critical axe-core violations`).toEqual([]);
}

for (const [width, viewport] of Object.entries(VIEWPORTS)) {
  for (const theme of THEMES) {
    const label = `${width}-${theme}`;

    test.describe(`${width}, ${theme}`, () => {
      // bypassCSP: the app's CSP (script-src 'self') would refuse the injected axe-core script.
      test.use({ viewport, bypassCSP: true });

      test(`copy, regenerate, edit and switch between branches (${label})`, async ({
        page,
        request,
        context,
      }) => {
        await context.grantPermissions(["clipboard-read", "clipboard-write"]);
        await useTheme(page, theme);
        await chatUser(page, request, 1);
        await page.goto("/chat");
        // The box has the focus on open: typing goes straight in.
        await expect(page.getByLabel("Message the agent")).toBeFocused();
        await sendMessage(page, "hello");
        await waitForStatus(page, "success");
        // A plain reply has no "Answer directly" plan card.
        await expect(lastAnswer(page).getByTestId("plan")).toHaveCount(0);
        await sendMessage(page, "show my items");
        await waitForStatus(page, "success");
        await expect(lastAnswer(page).getByTestId("answer")).toContainText("Notebook 1");
        await expect(lastAnswer(page).getByTestId("plan")).toContainText(/\(\d+ steps?\)/);
        await expect(lastAnswer(page).getByTestId("plan")).not.toContainText("(1 steps)");

        // Copy the answer: the clipboard holds its text.
        await lastAnswer(page).getByRole("button", { name: "Copy answer" }).click();
        await expect(lastAnswer(page).getByRole("button", { name: "Copied" })).toBeVisible();
        const copied = await page.evaluate(() => navigator.clipboard.readText());
        expect(copied).toContain("Notebook 1");
        const first = (await lastAnswer(page).getByTestId("answer").textContent()) ?? "";
        await page.screenshot({ path: `test-results/screens/chat-${label}-answer.png`, fullPage: true });

        // Regenerate: a second version of the answer, and ‹ 2/2 › on its question.
        await lastAnswer(page).getByRole("button", { name: "Regenerate answer" }).click();
        await waitForStatus(page, "success");
        await expect(userMessages(page)).toHaveCount(2);
        const position = page.getByTestId("branch-position");
        await expect(position).toHaveCount(1);
        await expect(position).toHaveText("2/2");
        await expect(lastAnswer(page).getByTestId("answer")).toContainText("Notebook 1");
        await page.screenshot({ path: `test-results/screens/chat-${label}-regenerated.png`, fullPage: true });

        // Edit the second question: a third branch from the checkpoint after the first turn.
        await page.getByRole("button", { name: "Edit message" }).last().click();
        const editor = page.getByLabel("Edit your message");
        await editor.fill("what did I say earlier?");
        await page.getByTestId("user-message-editor").getByRole("button", { name: "Send" }).click();
        await waitForStatus(page, "success");
        await expect(userMessages(page).last()).toHaveText("what did I say earlier?");
        await expect(lastAnswer(page).getByTestId("answer")).toContainText("“hello”");
        await expect(position).toHaveText("3/3");
        await expect(userMessages(page)).toHaveCount(2);
        await page.screenshot({ path: `test-results/screens/chat-${label}-edited.png`, fullPage: true });

        // Switch back to the first version: the original question and answer.
        await page.getByRole("button", { name: "Previous version" }).click();
        await expect(position).toHaveText("2/3");
        await page.getByRole("button", { name: "Previous version" }).click();
        await expect(position).toHaveText("1/3");
        await expect(userMessages(page).last()).toHaveText("show my items");
        await expect(lastAnswer(page).getByTestId("answer")).toHaveText(first);
        await expectLegibleControls(page, theme, "branches");
        await page.screenshot({ path: `test-results/screens/chat-${label}-branch-1.png`, fullPage: true });

        // The branches are the server's (checkpoints), not this page's memory.
        await page.reload();
        await expect(userMessages(page)).toHaveCount(2);
        await expect(page.getByTestId("branch-position")).toHaveText(/\/3$/);
        await expectNoHorizontalOverflow(page, "branches");
      });

      test(`the first message: regenerate its answer, edit it, switch, reload (${label})`, async ({
        page,
        request,
      }) => {
        await useTheme(page, theme);
        await chatUser(page, request, 1);
        await page.goto("/chat");
        await sendMessage(page, "hello");
        await waitForStatus(page, "success");
        const position = page.getByTestId("branch-position");
        await expect(position).toHaveCount(0);
        const original = (await lastAnswer(page).getByTestId("answer").textContent()) ?? "";

        // Regenerate the first answer: a branch from the thread's root checkpoint, ‹ 2/2 ›.
        await lastAnswer(page).getByRole("button", { name: "Regenerate answer" }).click();
        await waitForStatus(page, "success");
        await expect(userMessages(page)).toHaveCount(1);
        await expect(userMessages(page)).toHaveText("hello");
        await expect(position).toHaveText("2/2");
        await page.getByRole("button", { name: "Previous version" }).click();
        await expect(position).toHaveText("1/2");
        await expect(lastAnswer(page).getByTestId("answer")).toHaveText(original);
        await page.getByRole("button", { name: "Next version" }).click();
        await expect(position).toHaveText("2/2");
        await expectLegibleControls(page, theme, "first message");
        await page.screenshot({
          path: `test-results/screens/chat-${label}-first-regenerated.png`,
          fullPage: true,
        });

        // Edit the first message: a third version of the conversation, from the same root.
        await page.getByRole("button", { name: "Edit message" }).click();
        await page.getByLabel("Edit your message").fill("show my items");
        await page.getByTestId("user-message-editor").getByRole("button", { name: "Send" }).click();
        await waitForStatus(page, "success");
        await expect(userMessages(page)).toHaveCount(1);
        await expect(userMessages(page)).toHaveText("show my items");
        await expect(lastAnswer(page).getByTestId("answer")).toContainText("Notebook 1");
        await expect(position).toHaveText("3/3");
        await page.screenshot({
          path: `test-results/screens/chat-${label}-first-edited.png`,
          fullPage: true,
        });

        // Reload: every version is still there (the server's checkpoints), the newest shown.
        await page.reload();
        await expect(userMessages(page)).toHaveText("show my items");
        await expect(position).toHaveText("3/3");
        await page.getByRole("button", { name: "Previous version" }).click();
        await expect(position).toHaveText("2/3");
        await expect(userMessages(page)).toHaveText("hello");
        await page.getByRole("button", { name: "Previous version" }).click();
        await expect(position).toHaveText("1/3");
        await expect(userMessages(page)).toHaveText("hello");
        await expect(lastAnswer(page).getByTestId("answer")).toHaveText(original);
        // Regenerating the version shown answers its question, not the newest version's.
        await lastAnswer(page).getByRole("button", { name: "Regenerate answer" }).click();
        await waitForStatus(page, "success");
        await expect(position).toHaveText("4/4");
        await expect(userMessages(page)).toHaveText("hello");
        await expect(lastAnswer(page).getByTestId("answer")).toHaveText(original);
        await expectNoHorizontalOverflow(page, "first message");
      });

      test(`thumbs and a comment on an answer are saved (DB + the run's feedback) (${label})`, async ({
        page,
        request,
      }) => {
        await useTheme(page, theme);
        const user = await chatUser(page, request, 1);
        await page.goto("/chat");
        await sendMessage(page, "show my items");
        await waitForStatus(page, "success");
        await lastAnswer(page).getByRole("button", { name: "Rate this answer" }).click();
        const form = lastAnswer(page).getByTestId("answer-feedback");
        await form.getByLabel("Comment (optional)").fill("Listed my notebook");
        await form.getByRole("button", { name: "Not helpful" }).click();
        await expect(page.getByText("Feedback saved")).toBeVisible();
        expect(await axeViolations(page), "feedback: serious/critical axe-core violations").toEqual([]);
        await page.screenshot({ path: `test-results/screens/chat-${label}-feedback.png`, fullPage: true });

        const runs = await request.get("/api/v1/agent/runs", {
          headers: { Authorization: `Bearer ${user.token}` },
        });
        const [run] = ((await runs.json()) as { data: { id: string }[] }).data;
        const saved = await request.get(`/api/v1/agent/runs/${run?.id}/feedback`, {
          headers: { Authorization: `Bearer ${user.token}` },
        });
        expect(await saved.json()).toMatchObject({ score: -1, comment: "Listed my notebook" });
      });
    });
  }
}

test("regenerating while the conversation is answering elsewhere explains the 409", async ({
  page,
  request,
}) => {
  const user = await chatUser(page, request, 1);
  await page.goto("/chat");
  await sendMessage(page, "show my items");
  await waitForStatus(page, "success");
  await sendMessage(page, "hello");
  await waitForStatus(page, "success");
  const thread = new URL(page.url()).searchParams.get("thread");
  // Another client starts a long run on the thread; this page doesn't know yet.
  const started = await request.post(`/agent-protocol/threads/${thread}/runs`, {
    headers: { Authorization: `Bearer ${user.token}` },
    // Streamed token by token (at the tests' slow model speed), so it is still going when we click.
    data: {
      assistant_id: "agent",
      input: { messages: [{ type: "human", content: "tell me a long story" }] },
      stream_mode: ["messages-tuple"],
    },
  });
  expect(started.status()).toBe(200);
  const auth = { Authorization: `Bearer ${user.token}` };
  await expect
    .poll(
      async () =>
        (
          (await (await request.get(`/agent-protocol/threads/${thread}`, { headers: auth })).json()) as {
            status: string;
          }
        ).status,
    )
    .toBe("busy");
  const regenerate = page.getByRole("button", { name: "Regenerate answer" }).last();
  await regenerate.click();
  const notice = page.getByTestId("chat-failure");
  await expect(notice).toHaveAttribute("data-kind", "busy");
  await expect(notice).toContainText("still answering");
  await page.screenshot({ path: "test-results/screens/chat-busy-409.png", fullPage: true });
});

test("a 100k-character paste shows the limit before sending, and a network drop keeps the message", async ({
  page,
  request,
}) => {
  await chatUser(page, request);
  await page.goto("/chat");
  const input = page.getByLabel("Message the agent");
  await input.fill("x".repeat(100_000));
  await expect(page.getByText(/too long: shorten it by/)).toBeVisible();
  await expect(page.getByRole("button", { name: "Send" })).toBeDisabled();
  await page.screenshot({ path: "test-results/screens/chat-too-long.png" });

  // The network drops as the message goes: it stays in the box, and one outage notice shows.
  const down = ["**/agent-protocol/**", "**/api/v1/utils/health-check/**"];
  for (const url of down) await page.route(url, (route) => route.abort("internetdisconnected"));
  await input.fill("show my items");
  await input.press("Enter");
  await expect(input).toHaveValue("show my items");
  await expect(page.getByTestId("chat-failure").first()).toContainText("Can't reach the server");
  await page.screenshot({ path: "test-results/screens/chat-network-drop.png" });
  for (const url of down) await page.unroute(url);
  // Back: the chat reconnects by itself, the message still in the box; sending works.
  await expect(page.getByTestId("chat-failure")).toHaveCount(0, { timeout: 15_000 });
  await expect(input).toHaveValue("show my items");
  await input.press("Enter");
  await waitForStatus(page, "success");
  await expect(userMessages(page)).toHaveCount(1);
});
