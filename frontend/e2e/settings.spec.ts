import { expect, test } from "@playwright/test";
import { createUser, logIn } from "./support/users";

test("a user changes their name, password and theme", async ({ page, request }) => {
  const user = await createUser(request);
  await logIn(page, user);
  await page.getByRole("link", { name: "User settings" }).click();

  await page.getByLabel("Full name").fill("Renamed Person");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByText("Profile updated")).toBeVisible();
  await page.reload();
  await expect(page.getByLabel("Full name")).toHaveValue("Renamed Person");

  const newPassword = `${user.password}-2`;
  await page.getByLabel("Current password").fill(user.password);
  await page.getByLabel("New password", { exact: true }).fill(newPassword);
  await page.getByLabel("Confirm new password").fill(newPassword);
  await page.getByRole("button", { name: "Update password" }).click();
  await expect(page.getByText("Password updated")).toBeVisible();

  await page.getByText("Dark", { exact: true }).click();
  await expect(page.locator("html")).toHaveClass(/dark/);
  await page.reload();
  await expect(page.locator("html")).toHaveClass(/dark/);
  await page.getByText("Light", { exact: true }).click();
  await expect(page.locator("html")).not.toHaveClass(/dark/);

  await page.getByRole("button", { name: "User menu" }).click();
  await page.getByRole("menuitem", { name: "Log out" }).click();
  await logIn(page, { email: user.email, password: newPassword });
  await expect(page.getByRole("heading", { name: "Hi, Renamed Person" })).toBeVisible();
});

test("a wrong current password is refused", async ({ page, request }) => {
  const user = await createUser(request);
  await logIn(page, user);
  await page.goto("/settings");
  await page.getByLabel("Current password").fill("wrong-password");
  await page.getByLabel("New password", { exact: true }).fill("brand-new-password");
  await page.getByLabel("Confirm new password").fill("brand-new-password");
  await page.getByRole("button", { name: "Update password" }).click();
  await expect(page.getByText("Incorrect password")).toBeVisible();
});

test("a user downloads their data as a zip", async ({ page, request }) => {
  const user = await createUser(request);
  await logIn(page, user);
  await page.goto("/settings");
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download my data" }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe("my-data.zip");
  const path = await file.path();
  const { readFile } = await import("node:fs/promises");
  const bytes = await readFile(path);
  expect(bytes.subarray(0, 2).toString()).toBe("PK"); // a zip archive
  // The central directory names the files (stored uncompressed in the zip's index).
  expect(bytes.includes(Buffer.from("profile.json"))).toBe(true);
  expect(bytes.includes(Buffer.from("manifest.json"))).toBe(true);
});
