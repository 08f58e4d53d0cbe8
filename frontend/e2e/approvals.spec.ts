import { type APIRequestContext, expect, test } from "@playwright/test";
import {
  axeViolations,
  expectNoHorizontalOverflow,
  expectTheme,
  THEMES,
  useTheme,
  VIEWPORTS,
} from "./support/a11y";
import { chatUser, lastAnswer, sendMessage, waitForStatus } from "./support/agent";

const echo = () => {
  const url = process.env.E2E_ECHO_URL;
  if (!url) throw new Error("E2E_ECHO_URL is not set (playwright.config.ts sets it)");
  return url;
};

async function received(request: APIRequestContext): Promise<string[]> {
  const response = await request.get(`${echo()}/received`);
  return ((await response.json()) as { body: string }[]).map((entry) => entry.body);
}

test("http_post waits for approval; approving runs it, and the badge counts what is pending", async ({
  page,
  request,
}) => {
  await chatUser(page, request);
  const marker = `approve-${Date.now()}`;
  await page.goto("/chat");
  await sendMessage(page, `post "${marker}" to ${echo()}/hook`);

  const card = lastAnswer(page).getByTestId("approval-card");
  await expect(card).toBeVisible();
  await expect(lastAnswer(page)).toHaveAttribute("data-status", "awaiting_approval");
  await expect(card).toContainText("http_post");
  await expect(card).toContainText(marker);
  // The card shows where the data goes and flags what came from the conversation.
  const flow = card.getByTestId("approval-data-flow");
  await expect(flow).toContainText(`${echo()}/hook`);
  await expect(flow.locator("[data-from-conversation=true]").filter({ hasText: marker })).toHaveCount(1);
  await expect(page.getByTestId("approvals-badge").first()).toHaveText("1");
  await page.screenshot({ path: "test-results/approval-card.png", fullPage: true });
  expect(await received(request)).not.toContain(JSON.stringify({ message: marker }));

  await card.getByRole("button", { name: "Approve" }).click();
  await waitForStatus(page, "success");
  await expect(card).toHaveAttribute("data-state", "approved");
  await expect(card.getByRole("heading")).toHaveText("Approved");
  await expect(card.getByTestId("approval-decision")).toContainText("By you");
  await expect(lastAnswer(page).getByTestId("answer")).toContainText("answered 200");
  await expect.poll(() => received(request)).toContainEqual(expect.stringContaining(marker));
  await expect(page.getByTestId("approvals-badge")).toHaveCount(0);
});

test("rejecting a post answers without running it", async ({ page, request }) => {
  await chatUser(page, request);
  const marker = `reject-${Date.now()}`;
  await page.goto("/chat");
  await sendMessage(page, `post "${marker}" to ${echo()}/hook`);
  const card = lastAnswer(page).getByTestId("approval-card");
  await card.getByLabel("Comment (optional)").fill("not today");
  await card.getByRole("button", { name: "Reject" }).click();
  await waitForStatus(page, "success");
  await expect(card).toHaveAttribute("data-state", "rejected");
  await expect(lastAnswer(page).getByTestId("answer")).not.toBeEmpty();
  // The rejected call never ran: it shows rejected (not done), as run detail shows it.
  await expect(lastAnswer(page).getByTestId("tool-call")).toContainText("rejected");
  expect((await received(request)).some((body) => body.includes(marker))).toBe(false);
  // After a reload the card still says what was decided, by whom, with the comment; no buttons.
  await page.reload();
  const reloaded = lastAnswer(page).getByTestId("approval-card");
  await expect(reloaded).toHaveAttribute("data-state", "rejected");
  await expect(reloaded.getByTestId("approval-decision")).toContainText("Comment: not today");
  await expect(reloaded.getByRole("button")).toHaveCount(0);
  await expect(lastAnswer(page).getByTestId("tool-call")).toContainText("rejected");
  await page.screenshot({ path: "test-results/screens/approval-rejected.png", fullPage: true });
});

test("editing the arguments validates them, then runs the edited call", async ({ page, request }) => {
  await chatUser(page, request);
  const marker = `edit-${Date.now()}`;
  await page.goto("/chat");
  await sendMessage(page, `post "original" to ${echo()}/hook`);
  const card = lastAnswer(page).getByTestId("approval-card");
  await card.getByRole("button", { name: "Edit", exact: true }).click();
  const args = card.getByLabel("Arguments (JSON)");

  await args.fill("{ not json");
  await card.getByRole("button", { name: "Run with these arguments" }).click();
  await expect(card.getByRole("alert")).toContainText("Not valid JSON");

  await args.fill(JSON.stringify({ url: 42 }));
  await card.getByRole("button", { name: "Run with these arguments" }).click();
  await expect(card.getByRole("alert")).toBeVisible();
  await expect(card).toHaveAttribute("data-state", "pending");
  await expect(card.getByRole("alert")).toContainText("url");

  // The editor stays open with the server's complaint; fix the arguments and send again.
  await args.fill(JSON.stringify({ url: `${echo()}/edited`, body: { message: marker } }));
  await card.getByRole("button", { name: "Run with these arguments" }).click();
  await waitForStatus(page, "success");
  await expect(card).toHaveAttribute("data-state", "edited");
  await expect.poll(() => received(request)).toContainEqual(expect.stringContaining(marker));
  expect((await received(request)).some((body) => body.includes("original"))).toBe(false);
});

test("a pending approval survives a reload and can still be approved", async ({ page, request }) => {
  await chatUser(page, request);
  const marker = `reload-${Date.now()}`;
  await page.goto("/chat");
  await sendMessage(page, `post "${marker}" to ${echo()}/hook`);
  await expect(lastAnswer(page).getByTestId("approval-card")).toBeVisible();
  await expect(page).toHaveURL(/thread=/);

  await page.reload();
  const card = lastAnswer(page).getByTestId("approval-card");
  await expect(card).toBeVisible();
  await expect(card).toContainText(marker);
  await card.getByRole("button", { name: "Approve" }).click();
  await waitForStatus(page, "success");
  await expect.poll(() => received(request)).toContainEqual(expect.stringContaining(marker));
});

// The approval card's states at both widths in both themes: drawn legibly (axe-core, text contrast
// included) while pending and once superseded.
for (const [width, viewport] of Object.entries(VIEWPORTS)) {
  for (const theme of THEMES) {
    const label = `${width}-${theme}`;

    test.describe(`${width}, ${theme}`, () => {
      // bypassCSP: the app's CSP (script-src 'self') would refuse the injected axe-core script.
      test.use({ viewport, bypassCSP: true });

      test(`a new message supersedes a pending approval: its card says so and has no live buttons (${label})`, async ({
        page,
        request,
      }) => {
        await useTheme(page, theme);
        await chatUser(page, request);
        const marker = `supersede-${Date.now()}`;
        await page.goto("/chat");
        await expectTheme(page, theme);
        await sendMessage(page, `post "${marker}" to ${echo()}/hook`);
        const card = page.getByTestId("approval-card");
        await expect(card).toHaveAttribute("data-state", "pending");
        await expect(card.getByRole("button", { name: "Approve" })).toBeEnabled();
        expect(await axeViolations(page), "pending approval: serious/critical axe-core violations").toEqual(
          [],
        );

        await sendMessage(page, "hello");
        await waitForStatus(page, "success");
        await expect(card).toHaveCount(1);
        await expect(card).toHaveAttribute("data-state", "superseded");
        await expect(card.getByRole("heading")).toContainText("Superseded");
        await expect(card.getByRole("button")).toHaveCount(0);
        expect(
          await axeViolations(page),
          "superseded approval: serious/critical axe-core violations",
        ).toEqual([]);
        await expectNoHorizontalOverflow(page, "superseded approval");
        await page.screenshot({
          path: `test-results/screens/approval-superseded-${label}.png`,
          fullPage: true,
        });
        // The same after a reload, and the call never ran.
        await page.reload();
        await expect(page.getByTestId("approval-card")).toHaveAttribute("data-state", "superseded");
        await expect(page.getByTestId("approval-card").getByRole("button")).toHaveCount(0);
        expect((await received(request)).some((body) => body.includes(marker))).toBe(false);
      });
    });
  }
}
