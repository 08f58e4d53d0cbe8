import { expect, test } from "@playwright/test";
import { apiToken, createUser, logInViaApi } from "./support/users";

type ApiKeyRow = { id: string; name: string; prefix: string; revoked_at: string | null };

test("a user creates an API key in Settings, sees it once, and revokes it", async ({ page, request }) => {
  const user = await createUser(request);
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await logInViaApi(page, user);
  await page.goto("/settings");

  const section = page.getByRole("heading", { name: "API keys" });
  await expect(section).toBeVisible();
  await expect(page.getByText("No API keys yet.")).toBeVisible();
  await page.getByLabel("Key name").fill("agent-chat-ui");
  await page.getByLabel("Expires after").selectOption({ label: "90 days" });
  await page.getByRole("button", { name: "Create key" }).click();

  const box = page.getByRole("region", { name: "New API key" });
  await expect(box).toContainText("you won't be able to see it again");
  const key = await box.getByLabel("Your new API key").inputValue();
  expect(key).toMatch(/^fsk_[\w-]{40,}$/);
  await box.getByRole("button", { name: "Copy" }).click();
  await expect(page.getByText("API key copied")).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);

  // Listed with its first characters only; after "saved" (or a reload) the key is gone for good.
  const row = page.getByRole("row", { name: /agent-chat-ui/ });
  await expect(row).toContainText(`${key.slice(0, 12)}…`);
  await expect(row).toContainText("Active");
  await box.getByRole("button", { name: "I've saved it" }).click();
  await expect(box).toBeHidden();
  await page.reload();
  await expect(page.getByRole("row", { name: /agent-chat-ui/ })).toBeVisible();
  expect(await page.content()).not.toContain(key.slice(12));

  // The key is a real credential, but not one that can manage keys (that takes a session).
  const withKey = await page.evaluate(async (apiKey) => {
    const response = await fetch("/api/v1/api-keys", { headers: { "X-Api-Key": apiKey } });
    return { status: response.status, body: await response.json() };
  }, key);
  expect(withKey.status).toBe(401);
  expect(withKey.body.code).toBe("not_authenticated");
  // What it is for: the Agent Protocol, as agent-chat-ui calls it.
  const protocol = (apiKey: string) =>
    page.evaluate(async (k) => {
      const response = await fetch("/agent-protocol/threads/search", {
        method: "POST",
        headers: { "X-Api-Key": k, "Content-Type": "application/json" },
        body: JSON.stringify({ metadata: { graph_id: "agent" }, limit: 100 }),
      });
      return response.status;
    }, apiKey);
  expect(await protocol(key)).toBe(200);
  const headers = { Authorization: `Bearer ${await apiToken(request, user)}` };
  const listed = (await (await request.get("/api/v1/api-keys", { headers })).json()) as { data: ApiKeyRow[] };
  expect(listed.data.map((k) => [k.name, k.prefix, k.revoked_at])).toEqual([
    ["agent-chat-ui", key.slice(0, 12), null],
  ]);
  expect(JSON.stringify(listed)).not.toContain(key.slice(12));

  // Revoke, confirming first.
  await page.getByRole("button", { name: "Revoke agent-chat-ui" }).click();
  const dialog = page.getByRole("alertdialog", { name: "Revoke API key" });
  await expect(dialog).toContainText("stop working at once");
  await dialog.getByRole("button", { name: "Revoke" }).click();
  await expect(page.getByText("API key revoked")).toBeVisible();
  await expect(page.getByRole("row", { name: /agent-chat-ui/ })).toContainText("Revoked");
  await expect(page.getByRole("button", { name: "Revoke agent-chat-ui" })).toBeHidden();
  const after = (await (await request.get("/api/v1/api-keys", { headers })).json()) as { data: ApiKeyRow[] };
  expect(after.data[0]?.revoked_at).not.toBeNull();
  expect(await protocol(key)).toBe(401);
});
