import { expect, test } from "@playwright/test";
import { createUser, logIn } from "./support/users";

test("a user creates, edits and deletes an item", async ({ page, request }) => {
  const user = await createUser(request);
  await logIn(page, user);
  await page.getByRole("link", { name: "Items" }).first().click();
  await expect(page.getByText("No items yet")).toBeVisible();

  await page.getByRole("button", { name: "Add item" }).click();
  const addDialog = page.getByRole("dialog", { name: "Add item" });
  await addDialog.getByRole("button", { name: "Save" }).click();
  await expect(addDialog.getByText("Title is required")).toBeVisible();
  await addDialog.getByLabel("Title").fill("First item");
  await addDialog.getByLabel("Description").fill("Made by the e2e test");
  await addDialog.getByRole("button", { name: "Save" }).click();
  const row = page.getByRole("row", { name: /First item/ });
  await expect(row).toContainText("Made by the e2e test");

  await page.getByRole("button", { name: "Edit First item" }).click();
  const editDialog = page.getByRole("dialog", { name: "Edit item" });
  await expect(editDialog.getByLabel("Title")).toHaveValue("First item");
  await editDialog.getByLabel("Title").fill("Renamed item");
  await editDialog.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("row", { name: /Renamed item/ })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("row", { name: /Renamed item/ })).toBeVisible();

  await page.getByRole("button", { name: "Delete Renamed item" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Delete" }).click();
  await expect(page.getByText("No items yet")).toBeVisible();
});

test("items are private to their owner", async ({ page, request }) => {
  const owner = await createUser(request);
  const other = await createUser(request);
  await logIn(page, owner);
  await page.goto("/items");
  await page.getByRole("button", { name: "Add item" }).click();
  await page.getByRole("dialog").getByLabel("Title").fill("Owner's secret");
  await page.getByRole("dialog").getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("row", { name: /Owner's secret/ })).toBeVisible();

  await page.getByRole("button", { name: "User menu" }).click();
  await page.getByRole("menuitem", { name: "Log out" }).click();
  await logIn(page, other);
  await page.goto("/items");
  await expect(page.getByText("No items yet")).toBeVisible();
});
