import { type APIRequestContext, expect, type Page, test } from "@playwright/test";
import {
  axeViolations,
  expectNoHorizontalOverflow,
  expectTheme,
  THEMES,
  useTheme,
  VIEWPORTS,
} from "./support/a11y";
import { ADMIN, apiToken, createUser, logInViaApi, newUser, type TestUser } from "./support/users";

// Issue 15, items 5-8 at desktop and phone width, light and dark: every page without horizontal
// overflow and without serious/critical axe-core violations (axe injected from node_modules, no
// network), conversation rename and search, the run-detail approval audit and tool status.

const SCREENS = "test-results/screens";
// One line of code far wider than a phone: it must scroll inside its block, not the page.
const LONG_CODE = `const answer = ${JSON.stringify("x".repeat(40))}.repeat(${"9".repeat(6)}) + ${"[1, 2, 3].map((n) => n * 2).join(',') + ".repeat(4)}"";`;

function echo(): string {
  const url = process.env.E2E_ECHO_URL;
  if (!url) throw new Error("E2E_ECHO_URL is not set (playwright.config.ts sets it)");
  return url;
}

type Api = { request: APIRequestContext; headers: Record<string, string> };

async function run(api: Api, message: string, threadId?: string) {
  const response = await api.request.post("/api/v1/agent/run", {
    headers: api.headers,
    data: { message, ...(threadId ? { thread_id: threadId } : {}) },
  });
  expect(response.status(), await response.text()).toBe(200);
  return (await response.json()) as {
    run_id: string;
    thread_id: string;
    status: string;
    response: string;
    pending_approval?: { approval_id: string } | null;
  };
}

/** A superuser of its own (so its threads and runs are its own) with one item. */
async function superuser(request: APIRequestContext): Promise<TestUser & Api & { itemTitle: string }> {
  const user = await createUser(request, newUser("polish"));
  const adminHeaders = { Authorization: `Bearer ${await apiToken(request, ADMIN)}` };
  const me = await request.get("/api/v1/users/", { headers: adminHeaders, params: { limit: 1000 } });
  const found = ((await me.json()) as { data: { id: string; email: string }[] }).data.find(
    (u) => u.email === user.email,
  );
  expect(found).toBeTruthy();
  const promoted = await request.patch(`/api/v1/users/${found?.id}`, {
    headers: adminHeaders,
    data: { is_superuser: true },
  });
  expect(promoted.status(), await promoted.text()).toBe(200);
  const headers = { Authorization: `Bearer ${await apiToken(request, user)}` };
  const itemTitle = `Notebook of ${user.email}`;
  const item = await request.post("/api/v1/items/", {
    headers,
    data: { title: itemTitle, description: "A lined notebook for field notes" },
  });
  expect(item.status()).toBe(200);
  return { ...user, request, headers, itemTitle };
}

async function checkPage(page: Page, name: string, label: string) {
  // Let transitions (theme, toasts, fades) settle before measuring colours.
  await page.waitForTimeout(300);
  await expectNoHorizontalOverflow(page, name);
  expect(await axeViolations(page), `${name}: serious/critical axe-core violations`).toEqual([]);
  await page.screenshot({ path: `${SCREENS}/${name}-${label}.png`, fullPage: true });
}

for (const [viewportName, viewport] of Object.entries(VIEWPORTS)) {
  for (const theme of THEMES) {
    const label = `${viewportName}-${theme}`;

    test.describe(`${viewportName}, ${theme}`, () => {
      // bypassCSP: the app's CSP (script-src 'self') would refuse the injected axe-core script.
      test.use({ viewport, bypassCSP: true });

      test(`every page fits the screen and passes axe-core (${label})`, async ({ page, request }) => {
        test.setTimeout(180_000);
        await useTheme(page, theme);
        await page.goto("/login");
        await expectTheme(page, theme);
        await expect(page.getByRole("button", { name: "Log in" })).toBeVisible();
        await checkPage(page, "login", label);
        await page.goto("/signup");
        await expect(page.getByRole("button", { name: /sign up/i })).toBeVisible();
        await checkPage(page, "signup", label);

        const user = await superuser(request);
        // A chat answer holding a code block with a very long line (the offline model repeats the
        // first message when asked about it), and a rejected approval for the run detail.
        const first = await run(user, `Remember this:\n\n\`\`\`ts\n${LONG_CODE}\n\`\`\`\n`);
        const quoted = await run(user, "what did I say earlier?", first.thread_id);
        expect(quoted.response).toContain(LONG_CODE);
        const paused = await run(user, `post "hello" to ${echo()}/hook`);
        expect(paused.status).toBe("awaiting_approval");
        const decided = await request.post(
          `/api/v1/agent/threads/${paused.thread_id}/approvals/${paused.pending_approval?.approval_id}`,
          { headers: user.headers, data: { decision: "reject", comment: "not this time" } },
        );
        expect(decided.status(), await decided.text()).toBe(200);
        await logInViaApi(page, user);

        await page.goto(`/chat?thread=${first.thread_id}`);
        const code = page.locator("pre", { hasText: "const answer" }).last();
        await expect(code).toBeVisible();
        // The block scrolls inside itself; it, the answer around it and the user's message all
        // end within the screen (a parent that clips would hide an overflow from the page check).
        expect(await code.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
        for (const element of [
          code,
          page
            .getByText(/^Remember this:/)
            .filter({ visible: true })
            .first(),
        ]) {
          const box = await element.boundingBox();
          expect(box && box.x + box.width).toBeLessThanOrEqual(viewport.width);
        }
        await checkPage(page, "chat", label);

        await page.goto("/items");
        await expect(page.getByText(user.itemTitle)).toBeVisible();
        await checkPage(page, "items", label);

        await page.goto("/runs");
        // (A superuser's history holds everyone's runs: look for this user's.)
        await expect(
          page
            .getByRole("table", { name: "Runs" })
            .getByRole("row")
            .filter({ hasText: "what did I say earlier?" }),
        ).not.toHaveCount(0);
        if (viewportName === "phone") {
          // The table is wider than a phone: it scrolls inside itself and says so.
          await expect(page.getByTestId("table-scroll-hint").first()).toBeVisible();
        }
        await checkPage(page, "runs", label);

        await page.goto(`/runs/${quoted.run_id}`);
        await expect(page.locator("pre", { hasText: "const answer" })).toBeVisible();
        await checkPage(page, "run-detail", label);

        await page.goto(`/runs/${paused.run_id}`);
        await expect(page.getByTestId("approval-audit")).toBeVisible();
        await checkPage(page, "run-detail-approval", label);

        await page.goto("/evaluations");
        await expect(page.getByRole("button", { name: "Start evaluation" })).toBeVisible();
        await checkPage(page, "evaluations", label);

        await page.goto("/settings");
        await expect(page.getByRole("heading", { name: "API keys" })).toBeVisible();
        await checkPage(page, "settings", label);

        await page.goto("/admin");
        await expect(page.getByRole("table").first()).toBeVisible();
        await checkPage(page, "admin", label);
      });

      test(`conversations: model-free titles, rename and search (${label})`, async ({ page, request }) => {
        await useTheme(page, theme);
        const user = await superuser(request);
        const threads = [];
        for (const message of ["show my items", "show my items", "  show   my items  "]) {
          threads.push(await run(user, message));
        }
        await run(user, "tell me about kayaks", threads[1].thread_id);
        await logInViaApi(page, user);
        await page.goto("/chat");
        let list = page.getByRole("navigation", { name: "Conversations" });
        if (viewportName === "phone") {
          await page.getByRole("button", { name: "Conversations" }).click();
          list = page.getByRole("dialog").getByRole("navigation", { name: "Conversations" });
        }
        // Offline titles: the first message, whitespace collapsed (the user's own words).
        await expect(list.getByTestId("thread-item")).toHaveCount(3);
        await expect(list.getByText("show my items", { exact: true })).toHaveCount(3);

        // Rename the oldest one (last in the list); Enter saves.
        const oldest = list.getByTestId("thread-item").last();
        await oldest.getByRole("button", { name: /^Rename conversation/ }).click();
        const field = list.getByLabel("Conversation title");
        await expect(field).toBeFocused();
        await field.fill("Inventory check");
        await field.press("Enter");
        await expect(list.getByText("Inventory check")).toBeVisible();
        // Escape cancels.
        await list.getByRole("button", { name: "Rename conversation Inventory check" }).click();
        await list.getByLabel("Conversation title").fill("Never saved");
        await list.getByLabel("Conversation title").press("Escape");
        await expect(list.getByText("Inventory check")).toBeVisible();
        await expect(list.getByText("Never saved")).toHaveCount(0);
        await page.screenshot({ path: `${SCREENS}/conversations-renamed-${label}.png` });

        // Search: by title, by a later message, and nothing found.
        const search = list.getByLabel("Search conversations");
        await search.fill("inventory");
        await expect(list.getByTestId("thread-item")).toHaveCount(1);
        await expect(list.getByTestId("thread-item")).toContainText("Inventory check");
        await search.fill("kayak");
        await expect(list.getByTestId("thread-item")).toHaveCount(1);
        await expect(list.getByTestId("thread-item")).toContainText("show my items");
        await list.getByTestId("thread-item").getByRole("button").first().click();
        await expect(page).toHaveURL(new RegExp(`thread=${threads[1].thread_id}`));
        if (viewportName === "phone") {
          await page.getByRole("button", { name: "Conversations" }).click();
          list = page.getByRole("dialog").getByRole("navigation", { name: "Conversations" });
        }
        await list.getByLabel("Search conversations").fill("no such words");
        await expect(list.getByTestId("threads-empty")).toHaveText("No conversations match “no such words”.");
        await page.screenshot({ path: `${SCREENS}/conversations-search-${label}.png` });
        await list.getByLabel("Search conversations").fill("");
        await expect(list.getByTestId("thread-item")).toHaveCount(3);
        await expectNoHorizontalOverflow(page, "conversations");
        expect(await axeViolations(page)).toEqual([]);
      });

      test(`run detail: approval audit and the chat's tool status (${label})`, async ({ page, request }) => {
        await useTheme(page, theme);
        const user = await superuser(request);
        const paused = await run(user, `post "audit me" to ${echo()}/hook`);
        const decided = await request.post(
          `/api/v1/agent/threads/${paused.thread_id}/approvals/${paused.pending_approval?.approval_id}`,
          { headers: user.headers, data: { decision: "reject", comment: "not this time" } },
        );
        expect(decided.status()).toBe(200);
        await logInViaApi(page, user);

        await page.goto(`/runs/${paused.run_id}`);
        const audit = page.getByTestId("approval-audit");
        await expect(audit).toContainText("http_post");
        await expect(audit).toContainText("rejected");
        await expect(audit).toContainText(user.email);
        await expect(audit).toContainText("not this time");
        await expect(audit.locator("time")).toHaveCount(2); // requested and decided
        const detailCall = page.getByTestId("tool-call");
        await expect(detailCall).toHaveAttribute("data-status", "rejected");
        await expect(detailCall).toContainText("rejected");
        await page.screenshot({ path: `${SCREENS}/run-detail-audit-${label}.png`, fullPage: true });

        // The reloaded chat shows the same status as run detail.
        await page.goto(`/chat?thread=${paused.thread_id}`);
        await expect(page.getByTestId("tool-call").last()).toHaveAttribute("data-status", "rejected");
      });
    });
  }
}

test("run-history scores appear when an evaluation finishes, without a reload", async ({ page, request }) => {
  test.setTimeout(120_000);
  const user = await superuser(request);
  // Superusers see everyone's runs: a message of this test's own.
  const message = `show my items, ${user.email}`;
  const answered = await run(user, message);
  await logInViaApi(page, user);
  await page.goto("/runs");
  const row = page.getByRole("row").filter({ hasText: message });
  await expect(row).toBeVisible();
  await expect(row.getByText(/relevancy|helpfulness/)).toHaveCount(0);

  await page.getByRole("link", { name: "Evaluations" }).click();
  await page.getByLabel("Judge").selectOption("offline");
  await page.getByLabel("Runs from").selectOption("db");
  await page.getByLabel("Window (hours)").fill("1");
  await page.getByRole("button", { name: "Start evaluation" }).click();
  await expect(page).toHaveURL(/job=[0-9a-f-]{36}/);
  // Straight back to the run history (client-side, the cached page): its scores arrive when
  // the job ends, with no reload.
  await page.getByRole("link", { name: "Run history" }).click();
  await expect(row.getByText(/\d\.\d\d/).first()).toBeVisible({ timeout: 60_000 });
  const detail = await request.get(`/api/v1/agent/runs/${answered.run_id}`, { headers: user.headers });
  const scores = ((await detail.json()) as { evaluations: Record<string, number> }).evaluations;
  expect(Object.keys(scores).length).toBeGreaterThan(0);
  await page.screenshot({ path: `${SCREENS}/runs-scored.png`, fullPage: true });
});
