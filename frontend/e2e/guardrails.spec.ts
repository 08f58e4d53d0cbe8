import { expect, test } from "@playwright/test";
import { chatUser, lastAnswer, sendMessage, waitForStatus } from "./support/agent";

// The e2e server's guardrail policy file (backend/tests/support/e2e_server.py) has one input rule,
// E2E_BLOCKED_RULE, that blocks messages containing E2E_BLOCKED_PHRASE.
const RULE = "e2e_pod_bay_doors";
const BLOCKED = "Please open the pod bay doors, HAL";

test("a blocked message gets a guardrail notice, stays editable, and the thread shows it blocked after a reload", async ({
  page,
  request,
}) => {
  const user = await chatUser(page, request, 1);
  await page.goto("/chat");
  await sendMessage(page, BLOCKED);
  await waitForStatus(page, "blocked");

  const answer = lastAnswer(page);
  const notice = answer.getByTestId("guardrail-notice");
  await expect(notice).toContainText("Message blocked");
  await expect(notice).toContainText(`Your message was blocked by the ${RULE} guardrail`);
  await expect(notice).toContainText("Edit your message and send it again.");
  await expect(answer.getByRole("button", { name: "Retry" })).toHaveCount(0);
  await expect(answer.getByTestId("run-stats")).toContainText("blocked");
  // The refused text is back in the box, ready to edit.
  const input = page.getByLabel("Message the agent");
  await expect(input).toHaveValue(BLOCKED);
  await expect(page).toHaveURL(/\/chat\?thread=[0-9a-f-]{36}$/);
  const url = page.url();

  // Recorded as blocked, with the rule's name.
  const runs = await request.get("/api/v1/agent/runs", {
    headers: { Authorization: `Bearer ${user.token}` },
  });
  const [run] = (await runs.json()).data as { status: string; error: string }[];
  expect(run?.status).toBe("blocked");
  expect(run?.error).toContain(RULE);

  await page.reload();
  await expect(page).toHaveURL(url);
  const message = page.getByTestId("user-message");
  await expect(message).toHaveText(BLOCKED);
  await expect(message).toHaveAttribute("data-run-status", "blocked");
  await expect(lastAnswer(page)).toHaveAttribute("data-status", "blocked");
  await expect(lastAnswer(page).getByTestId("guardrail-notice")).toContainText(
    `Your message was blocked by the ${RULE} guardrail`,
  );

  // Edited, the message goes through; the blocked turn stays in the thread as blocked.
  await input.fill("show my items");
  await input.press("Enter");
  await waitForStatus(page, "success");
  await expect(lastAnswer(page).getByTestId("answer")).toContainText("Notebook 1");
  await page.reload();
  await expect(page.getByTestId("user-message")).toHaveCount(2);
  await expect(page.getByTestId("assistant-message").first()).toHaveAttribute("data-status", "blocked");
  await expect(page.getByTestId("assistant-message").first().getByTestId("guardrail-notice")).toBeVisible();
  await expect(lastAnswer(page)).toHaveAttribute("data-status", "success");
});
