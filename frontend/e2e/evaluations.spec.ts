import { expect, test } from "@playwright/test";
import { lastAnswer, sendMessage, waitForStatus } from "./support/agent";
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
