import { expect, test } from "@playwright/test";
import { chatUser, lastAnswer, sendMessage, waitForStatus } from "./support/agent";

test.use({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });

async function noHorizontalScroll(page: import("@playwright/test").Page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
}

test("at phone width, navigation, chat and history work in dark mode", async ({ page, request }) => {
  await chatUser(page, request, 1);
  await page.addInitScript(() => localStorage.setItem("ui-theme", "dark"));
  await page.goto("/");
  await expect(page.locator("html")).toHaveClass(/dark/);
  await noHorizontalScroll(page);

  await page.getByRole("button", { name: "Open navigation" }).click();
  await page.getByRole("dialog").getByRole("link", { name: "Agent chat" }).click();
  await expect(page).toHaveURL(/\/chat$/);
  await noHorizontalScroll(page);

  await sendMessage(page, "show my items");
  await waitForStatus(page, "success");
  await expect(lastAnswer(page).getByTestId("answer")).toContainText("Notebook 1");
  await noHorizontalScroll(page);
  await page.screenshot({ path: "test-results/chat-phone-dark.png" });

  await page.getByRole("button", { name: "Conversations" }).click();
  await expect(page.getByRole("dialog").getByRole("navigation", { name: "Conversations" })).toContainText(
    "show my items",
  );
  await page.keyboard.press("Escape");

  await page.goto("/runs");
  await expect(page.getByRole("table", { name: "Runs" }).getByRole("row")).toHaveCount(2);
  await noHorizontalScroll(page);
});
