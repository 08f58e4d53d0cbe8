import { expect, test } from "@playwright/test";
import { ADMIN, createUser, logIn, newUser } from "./support/users";

test("the superuser creates a user who can then log in", async ({ page }) => {
  const user = newUser("created");
  await logIn(page, ADMIN);
  await page.getByRole("link", { name: "Admin" }).click();
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
  await page.getByRole("button", { name: "Add user" }).click();
  const dialog = page.getByRole("dialog", { name: "Add user" });
  await dialog.getByLabel("Email").fill(user.email);
  await dialog.getByLabel("Full name").fill(user.fullName);
  await dialog.getByLabel("Password", { exact: true }).fill(user.password);
  await dialog.getByLabel("Confirm password").fill(user.password);
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("User created")).toBeVisible();
  await expect(dialog).toBeHidden();

  // The list is newest last; page through until the new row shows.
  const row = page.getByRole("row", { name: new RegExp(user.email) });
  for (let i = 0; i < 20 && !(await row.isVisible()); i++) {
    await page.getByRole("button", { name: "Next page" }).click();
  }
  await expect(row).toBeVisible();

  await page.getByRole("button", { name: "User menu" }).click();
  await page.getByRole("menuitem", { name: "Log out" }).click();
  await logIn(page, user);
  await expect(page.getByRole("heading", { name: `Hi, ${user.fullName}` })).toBeVisible();
});

test("a normal user has no admin page", async ({ page, request }) => {
  const user = await createUser(request);
  await logIn(page, user);
  await expect(page.getByRole("link", { name: "Admin" })).toHaveCount(0);
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/$/);
});
