import { readFile } from "node:fs/promises";
import { expect } from "@playwright/test";

type LogLine = { event?: string; to?: string; body?: string };

/** The password-reset token from the newest `email.logged` event sent to `email`. */
export async function resetTokenFromLog(email: string): Promise<string> {
  const logFile = process.env.E2E_LOG_FILE;
  if (!logFile) throw new Error("E2E_LOG_FILE is not set (playwright.config.ts sets it)");
  let token = "";
  await expect
    .poll(
      async () => {
        const lines = (await readFile(logFile, "utf8")).split("\n");
        for (const line of lines.reverse()) {
          if (!line.startsWith("{")) continue;
          const entry = JSON.parse(line) as LogLine;
          if (entry.event === "email.logged" && entry.to === email) {
            token = /\/reset-password\?token=([\w.-]+)/.exec(entry.body ?? "")?.[1] ?? "";
            return token;
          }
        }
        return "";
      },
      { message: `no reset email for ${email} in ${logFile}`, timeout: 10_000 },
    )
    .not.toBe("");
  return token;
}
