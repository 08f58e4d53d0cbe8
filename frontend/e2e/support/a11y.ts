import { createRequire } from "node:module";
import { expect, type Locator, type Page } from "@playwright/test";

// Issue 15's matrix (each item at desktop and phone width, light and dark) and the checks every
// spec runs in it: the theme applied, no horizontal overflow, no serious/critical axe-core
// violations (axe-core injected from node_modules: no network). Specs that call `axeViolations`
// need `test.use({ bypassCSP: true })`: the app's CSP (script-src 'self') refuses the script.

const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve("axe-core/axe.min.js");

export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;
export const THEMES = ["light", "dark"] as const;
export type Theme = (typeof THEMES)[number];

/** Open every page of this test in `theme` (what the theme menu stores). */
export async function useTheme(page: Page, theme: Theme) {
  await page.addInitScript((value) => localStorage.setItem("ui-theme", value), theme);
}

/** The page is drawn in `theme` (the `dark` class on <html>, or none). */
export async function expectTheme(page: Page, theme: Theme) {
  await expect(page.locator("html")).toHaveClass(theme === "dark" ? /dark/ : /^(?!.*dark)/);
}

/** Wait for running transitions and finite animations to end (at most 2 s): axe-core blends a
 * fading element's colours with what is behind it, so a toast caught entering fails contrast. */
async function settled(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const finite = document
      .getAnimations()
      .filter((a) => a.effect?.getComputedTiming().endTime !== Number.POSITIVE_INFINITY);
    const timeout = new Promise((resolve) => setTimeout(resolve, 2000));
    await Promise.race([Promise.allSettled(finite.map((a) => a.finished)), timeout]);
  });
}

/** Serious and critical axe-core violations on the page as it is now. */
export async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ path: AXE_PATH });
  await settled(page);
  return page.evaluate(async () => {
    // biome-ignore lint/suspicious/noExplicitAny: axe-core's global, injected above
    const axe = (window as any).axe;
    const results = await axe.run(document, { resultTypes: ["violations"] });
    return (
      results.violations as {
        id: string;
        impact: string;
        help: string;
        nodes: { target: string[]; failureSummary: string }[];
      }[]
    )
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map(
        (v) =>
          `${v.impact} ${v.id}: ${v.help}\n${v.nodes
            .slice(0, 4)
            .map((n) => `  ${n.target.join(" ")} — ${n.failureSummary.replace(/\s+/g, " ")}`)
            .join("\n")}`,
      );
  });
}

/** The page itself never scrolls sideways (the message names the elements sticking out). */
export async function expectNoHorizontalOverflow(page: Page, name: string) {
  const { scrollWidth, clientWidth, offenders } = await page.evaluate(() => {
    const root = document.scrollingElement ?? document.documentElement;
    const width = root.clientWidth;
    const clipped = (el: Element) => {
      for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
        if (getComputedStyle(up).overflowX !== "visible") return true;
      }
      return false;
    };
    const offenders = Array.from(document.body.querySelectorAll("*"))
      .filter((el) => el.getBoundingClientRect().right > width + 1 && !clipped(el))
      .slice(0, 5)
      .map((el) => `<${el.tagName.toLowerCase()} class="${el.getAttribute("class") ?? ""}">`);
    return { scrollWidth: root.scrollWidth, clientWidth: width, offenders };
  });
  expect(
    scrollWidth,
    `${name}: the page is ${scrollWidth - clientWidth}px wider than the screen: ${offenders.join(" ")}`,
  ).toBeLessThanOrEqual(clientWidth);
}

/** WCAG contrast of an icon button's glyph (lucide strokes with `color`) against what is drawn
 * behind it (every ancestor's background, composited on a 1×1 canvas, so oklch and alpha count).
 * axe-core checks text only; non-text controls need 3:1 (WCAG 1.4.11). */
export async function iconContrast(button: Locator): Promise<number> {
  return button.evaluate((element) => {
    const context = document.createElement("canvas").getContext("2d", { willReadFrequently: true });
    if (!context) throw new Error("no canvas");
    const paint = (color: string) => {
      context.fillStyle = color;
      context.fillRect(0, 0, 1, 1);
      return Array.from(context.getImageData(0, 0, 1, 1).data.slice(0, 3));
    };
    const chain: Element[] = [];
    for (let up: Element | null = element; up; up = up.parentElement) chain.unshift(up);
    let behind = paint("#fff");
    for (const layer of chain) behind = paint(getComputedStyle(layer).backgroundColor);
    const glyph = paint(getComputedStyle(element).color);
    const luminance = (rgb: number[]) => {
      const [r = 0, g = 0, b = 0] = rgb.map((v) => {
        const c = v / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const [light, dark] = [luminance(glyph), luminance(behind)].sort((a, b) => b - a);
    return ((light ?? 0) + 0.05) / ((dark ?? 0) + 0.05);
  });
}
