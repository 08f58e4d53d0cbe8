import { expect, type Page, test } from "@playwright/test";
import { createUser, logIn } from "./support/users";

/** Every value the page keeps in Web Storage (where an injected script could read a token). */
async function webStorage(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [localStorage, sessionStorage].flatMap((storage) =>
      Object.keys(storage).map((key) => `${key}=${storage.getItem(key)}`),
    ),
  );
}

test("the session survives a reload through the refresh cookie, and no token is in storage", async ({
  page,
  request,
}) => {
  const user = await createUser(request);
  let accessToken = "";
  page.on("response", async (response) => {
    if (response.url().endsWith("/api/v1/login/access-token") && response.ok()) {
      accessToken = ((await response.json()) as { access_token: string }).access_token;
    }
  });
  await logIn(page, user);
  expect(accessToken).not.toBe("");
  for (const entry of await webStorage(page)) expect(entry).not.toContain(accessToken);
  expect((await webStorage(page)).join(" ")).not.toMatch(/eyJ[\w-]+\.[\w-]+\./); // no JWT at all

  const cookies = await page.context().cookies();
  const refresh = cookies.find((cookie) => cookie.name === "refresh_token");
  expect(refresh).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/api/v1/login/refresh" });
  expect(cookies.find((cookie) => cookie.name === "csrf_token")).toMatchObject({
    httpOnly: false,
    path: "/",
  });
  expect(await page.evaluate(() => document.cookie)).not.toContain("refresh_token");

  const refreshed = page.waitForResponse((response) => response.url().endsWith("/api/v1/login/refresh"));
  await page.reload();
  expect((await refreshed).status()).toBe(200);
  await expect(page.getByRole("heading", { name: `Hi, ${user.fullName}` })).toBeVisible();
  await page.goto("/items");
  await expect(page.getByRole("heading", { name: "Items" })).toBeVisible();
  expect((await webStorage(page)).join(" ")).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
});

test("logging out ends the session on the server: a reload stays logged out", async ({ page, request }) => {
  const user = await createUser(request);
  await logIn(page, user);
  const refreshCookie = (await page.context().cookies()).find((cookie) => cookie.name === "refresh_token");
  expect(refreshCookie).toBeDefined();

  await page.getByRole("button", { name: "User menu" }).click();
  await page.getByRole("menuitem", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  expect((await page.context().cookies()).map((cookie) => cookie.name)).not.toContain("refresh_token");
  await page.reload();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/settings");
  await expect(page).toHaveURL(/\/login\?redirect=/);

  // A copy of the old refresh cookie is revoked server-side, not just deleted in the browser.
  if (refreshCookie) await page.context().addCookies([refreshCookie]);
  await page
    .context()
    .addCookies([
      { name: "csrf_token", value: "kept", domain: refreshCookie?.domain ?? "127.0.0.1", path: "/" },
    ]);
  const replay = await page.context().request.post("/api/v1/login/refresh", {
    headers: { "X-CSRF-Token": "kept" },
  });
  expect(replay.status()).toBe(401);
});

test("log out everywhere ends the sessions of other browsers too", async ({ page, browser, request }) => {
  const user = await createUser(request);
  const otherContext = await browser.newContext();
  const other = await otherContext.newPage();
  await logIn(other, user);
  await logIn(page, user);

  await page.goto("/settings");
  await page.getByRole("button", { name: "Log out everywhere" }).click();
  await expect(page).toHaveURL(/\/login/);

  await other.reload();
  await expect(other).toHaveURL(/\/login/);
  await otherContext.close();
});
