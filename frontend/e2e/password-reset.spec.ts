import { expect, test } from "@playwright/test";
import { resetTokenFromLog } from "./support/server-log";
import { createUser, logIn } from "./support/users";

test("password reset with the token from the logged email", async ({ page, request }) => {
  const user = await createUser(request);
  await page.goto("/login");
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await expect(page).toHaveURL(/\/recover-password$/);
  // The URL changes before the page renders: until then "Email" is the login form's field.
  await expect(page.getByRole("heading", { name: "Password recovery" })).toBeVisible();
  await page.getByLabel("Email").fill(user.email);
  await page.getByRole("button", { name: "Send recovery email" }).click();
  await expect(page.getByText("If that email is registered")).toBeVisible();

  const token = await resetTokenFromLog(user.email);
  const newPassword = `${user.password}-new`;
  await page.goto(`/reset-password?token=${token}`);
  await page.getByLabel("New password").fill(newPassword);
  await page.getByLabel("Confirm password").fill(newPassword);
  await page.getByRole("button", { name: "Reset password" }).click();
  await expect(page).toHaveURL(/\/login\?reset=true/);
  await expect(page.getByText("Your password was reset")).toBeVisible();

  await logIn(page, { email: user.email, password: newPassword });
});

test("a tampered reset token is refused", async ({ page }) => {
  await page.goto("/reset-password?token=eyJhbGciOiJIUzI1NiJ9.e30.tampered");
  await page.getByLabel("New password").fill("another-password");
  await page.getByLabel("Confirm password").fill("another-password");
  await page.getByRole("button", { name: "Reset password" }).click();
  await expect(page.getByRole("alert")).toHaveText("Invalid or expired token");
});
