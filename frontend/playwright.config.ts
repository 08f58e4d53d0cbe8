import { execSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { defineConfig, devices } from "@playwright/test";

// Browser tests drive Debian's chromium (never a downloaded browser) against the real backend,
// started by backend/tests/support/e2e_server.py on a throwaway PostgreSQL with the offline model.
const port = Number(process.env.E2E_PORT ?? 8765);
const baseURL = `http://127.0.0.1:${port}`;
const echoPort = Number(process.env.E2E_ECHO_PORT ?? port + 1);
const logFile = process.env.E2E_LOG_FILE ?? path.join(os.tmpdir(), `e2e-server-${port}.log`);
// Read by the tests (workers inherit them): the reset-password email log and the echo endpoint
// that the agent's http_post may call (allowlisted by the e2e server).
process.env.E2E_LOG_FILE = logFile;
process.env.E2E_ECHO_URL = `http://127.0.0.1:${echoPort}`;

function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execSync("command -v chromium || command -v chromium-browser", { shell: "/bin/sh" })
      .toString()
      .trim();
  } catch {
    throw new Error("chromium not found: apt-get install chromium (or set CHROMIUM_PATH)");
  }
}

const build = process.env.E2E_SKIP_BUILD ? "true" : "npm run build";

export default defineConfig({
  testDir: "./e2e",
  outputDir: "./test-results/output",
  fullyParallel: false,
  workers: Number(process.env.E2E_WORKERS ?? 2),
  retries: 0,
  forbidOnly: true,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"], ["html", { outputFolder: "playwright-report", open: "never" }]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: chromiumPath(),
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [{ name: "chromium", use: { ...devices["Desktop Chrome"], channel: undefined } }],
  webServer: {
    command: `${build} && cd ../backend && UV_PYTHON_DOWNLOADS=never uv run python -m tests.support.e2e_server --port ${port} --echo-port ${echoPort} --log-file ${logFile}`,
    url: `${baseURL}/api/v1/utils/health-check/`,
    timeout: 240_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 20_000 },
    env: {
      // A slow offline model, so streaming is observable and Stop has something to cancel.
      OFFLINE_MODEL_TOKENS_PER_SECOND: process.env.OFFLINE_MODEL_TOKENS_PER_SECOND ?? "12",
    },
  },
});
