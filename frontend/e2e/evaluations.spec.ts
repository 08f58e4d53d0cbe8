import { expect, test } from "@playwright/test";
import { chatUser, lastAnswer, sendMessage, waitForStatus } from "./support/agent";
import { ADMIN, createUser, logInViaApi } from "./support/users";

test("a superuser runs an evaluation and reads its summary", async ({ page }) => {
  await logInViaApi(page, ADMIN);
  await page.goto("/chat");
  await sendMessage(page, "who is admin@example.com?");
  await waitForStatus(page, "success");
  await expect(lastAnswer(page)).toContainText("admin@example.com");

  await page.getByRole("link", { name: "Evaluations" }).click();
  await expect(page.getByRole("heading", { name: "Evaluations" })).toBeVisible();
  await page.getByLabel("Judge").selectOption("offline");
  await page.getByLabel("Runs from").selectOption("db");
  await page.getByLabel("Window (hours)").fill("1");
  await page.getByRole("button", { name: "Start evaluation" }).click();
  await expect(page).toHaveURL(/job=[0-9a-f-]{36}/);

  const summary = page.getByTestId("evaluation-summary");
  await expect(summary.getByText("completed")).toBeVisible({ timeout: 60_000 });
  const metrics = summary.getByRole("table", { name: "Metrics" });
  await expect(metrics.getByRole("row").nth(1)).toBeVisible();
  await expect(metrics).toContainText("%");
  await expect(summary).toContainText("Judge cost:");
  await expect(page.getByRole("table", { name: "Evaluation jobs" }).getByRole("row")).not.toHaveCount(1);
  await page.screenshot({ path: "test-results/evaluations.png", fullPage: true });
});

test("a normal user has no evaluations page", async ({ page, request }) => {
  const user = await createUser(request);
  await logInViaApi(page, user);
  await page.goto("/evaluations");
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("link", { name: "Evaluations" })).toHaveCount(0);
});

test("a thumbs-down on a run can say what was wrong, per metric", async ({ page, request }) => {
  const user = await chatUser(page, request);
  await page.goto("/chat");
  await sendMessage(page, "what can you do?");
  await waitForStatus(page, "success");
  const headers = { Authorization: `Bearer ${user.token}` };
  const runs = await (await request.get("/api/v1/agent/runs", { headers })).json();
  const runId: string = runs.data[0].id;

  await page.goto(`/runs/${runId}`);
  const card = page
    .getByRole("heading", { name: "Feedback" })
    .locator("xpath=ancestor::*[@data-slot='card']");
  await expect(card.getByText("What was wrong? (optional)")).toHaveCount(0);
  await card.getByRole("button", { name: "Not helpful" }).click();
  await expect(card.getByTestId("feedback-saved")).toBeVisible();
  await card.getByRole("checkbox", { name: "hallucination" }).click();
  await expect(card.getByRole("checkbox", { name: "hallucination" })).toBeChecked();
  await expect(card.getByRole("checkbox", { name: "hallucination" })).toBeEnabled(); // saved

  await expect
    .poll(
      async () =>
        (await (await request.get(`/api/v1/agent/runs/${runId}/feedback`, { headers })).json()).labels,
    )
    .toEqual({ hallucination: "fail" });
  await page.reload();
  await expect(card.getByRole("checkbox", { name: "hallucination" })).toBeChecked();
  await expect(card.getByRole("checkbox", { name: "toxicity" })).not.toBeChecked();
  await page.screenshot({ path: "test-results/feedback-labels.png", fullPage: true });

  await card.getByRole("button", { name: "Helpful", exact: true }).click();
  await expect(card.getByText("What was wrong? (optional)")).toHaveCount(0);
  await expect
    .poll(
      async () =>
        (await (await request.get(`/api/v1/agent/runs/${runId}/feedback`, { headers })).json()).labels,
    )
    .toEqual({});
});
