import { randomUUID } from "node:crypto";
import { type APIRequestContext, expect, type Page } from "@playwright/test";

export const ADMIN = { email: "admin@example.com", password: "e2e-admin-password" };

export type TestUser = { email: string; password: string; fullName: string };

/** A fresh, unique account description (tests never share users, so they can run in parallel). */
export function newUser(prefix = "user"): TestUser {
  const id = randomUUID().slice(0, 8);
  return {
    email: `${prefix}-${id}@example.com`,
    password: `pw-${id}-secret`,
    fullName: `Test ${prefix} ${id}`,
  };
}

/** Sign up through the API (fast set-up for tests that aren't about signing up). */
export async function createUser(request: APIRequestContext, user: TestUser = newUser()): Promise<TestUser> {
  const response = await request.post("/api/v1/users/signup", {
    data: { email: user.email, password: user.password, full_name: user.fullName },
  });
  expect(response.status(), await response.text()).toBe(200);
  return user;
}

/** An access token for a user, from the login endpoint. */
export async function apiToken(request: APIRequestContext, user: { email: string; password: string }) {
  const response = await request.post("/api/v1/login/access-token", {
    form: { username: user.email, password: user.password },
  });
  expect(response.status(), await response.text()).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** Log in through the login form and wait for the dashboard. */
export async function logIn(page: Page, user: { email: string; password: string }) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: /^Hi, / })).toBeVisible();
}

/**
 * Start a page already logged in: log in through the API with the page's own request context,
 * which shares the browser's cookies, so the SPA restores the session from the refresh cookie on
 * its first load (the access token itself only ever lives in the page's memory).
 */
export async function logInViaApi(page: Page, user: { email: string; password: string }, baseUrl = "") {
  const response = await page.context().request.post(`${baseUrl}/api/v1/login/access-token`, {
    form: { username: user.email, password: user.password },
  });
  expect(response.status(), await response.text()).toBe(200);
}
