import { type APIRequestContext, expect, type Page } from "@playwright/test";
import { apiToken, createUser, logInViaApi, type TestUser } from "./users";

/** A new user with `count` items, logged in (session cookie in the page's context), ready to chat. */
export async function chatUser(
  page: Page,
  request: APIRequestContext,
  count = 0,
): Promise<TestUser & { token: string }> {
  const user = await createUser(request);
  const token = await apiToken(request, user);
  for (let i = 1; i <= count; i++) {
    const response = await request.post("/api/v1/items/", {
      headers: { Authorization: `Bearer ${token}` },
      data: {
        title: `Notebook ${i}`,
        description: `A lined notebook, number ${i} of ${count}, for field notes`,
      },
    });
    expect(response.status()).toBe(200);
  }
  await logInViaApi(page, user);
  return { ...user, token };
}

/** Type a message and press Enter. */
export async function sendMessage(page: Page, text: string) {
  const input = page.getByLabel("Message the agent");
  await input.fill(text);
  await input.press("Enter");
}

/** The newest answer bubble and its status. */
export function lastAnswer(page: Page) {
  return page.getByTestId("assistant-message").last();
}

/** Wait until the newest answer has finished with `status`. */
export async function waitForStatus(page: Page, status: string, timeout = 30_000) {
  await expect(lastAnswer(page)).toHaveAttribute("data-status", status, { timeout });
}
