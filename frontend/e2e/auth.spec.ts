import { expect, test } from "@playwright/test";
import { ADMIN, apiToken, createUser, logIn, newUser } from "./support/users";

test("the superuser logs in and sees the dashboard", async ({ page }) => {
  await logIn(page, ADMIN);
  await expect(page).toHaveURL("/");
  await expect(page.getByRole("link", { name: "Admin" })).toBeVisible();
});

test("a wrong password is refused with a message and no session", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password", { exact: true }).fill("not-the-password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Incorrect email or password");
  await expect(page).toHaveURL(/\/login/);
  expect(await page.context().cookies()).toEqual([]);
});

test("form validation catches a bad email before calling the API", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByLabel("Password", { exact: true }).fill("whatever1");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByText("Enter a valid email address")).toBeVisible();
  await expect(page.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");
});

test("a visitor signs up and lands on the dashboard, logged in", async ({ page }) => {
  const user = newUser("signup");
  await page.goto("/signup");
  await page.getByLabel("Full name").fill(user.fullName);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByLabel("Confirm password").fill(user.password);
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.getByRole("heading", { name: `Hi, ${user.fullName}` })).toBeVisible();
  await expect(page.getByRole("link", { name: "Admin" })).toHaveCount(0);
});

test("signing up twice with one email is refused", async ({ page, request }) => {
  const user = await createUser(request, newUser("dupe"));
  await page.goto("/signup");
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByLabel("Confirm password").fill(user.password);
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.getByRole("alert")).toContainText("already exists");
});

test("logging out returns to the login page and protects the app again", async ({ page, request }) => {
  const user = await createUser(request);
  await logIn(page, user);
  await page.getByRole("button", { name: "User menu" }).click();
  await page.getByRole("menuitem", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/items");
  await expect(page).toHaveURL(/\/login\?redirect=/);
});

test("a protected page redirects to login, then back after logging in", async ({ page, request }) => {
  const user = await createUser(request);
  await page.goto("/settings");
  await expect(page).toHaveURL(/\/login\?redirect=%2Fsettings/);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole("heading", { name: "User settings" })).toBeVisible();
});

test("a session ended elsewhere sends the user to login with a session-expired message", async ({
  page,
  request,
}) => {
  const user = await createUser(request);
  await logIn(page, user);
  // "Log out everywhere" from another client: this page's access token and refresh cookie die.
  const token = await apiToken(request, user);
  const everywhere = await request.post("/api/v1/logout/all", {
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(everywhere.status()).toBe(200);
  await page.getByRole("link", { name: "Items", exact: true }).click();
  await expect(page).toHaveURL(/\/login\?/);
  await expect(page.getByText("Your session has expired, please log in again")).toBeVisible();
});

test("logging in works from the keyboard alone", async ({ page, request }) => {
  const user = await createUser(request);
  await page.goto("/login");
  await page.getByLabel("Email").focus();
  await page.keyboard.type(user.email);
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Password", { exact: true })).toBeFocused();
  await page.keyboard.type(user.password);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: /^Hi, / })).toBeVisible();
  // The skip link is the first stop on every app page.
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
});
