import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";

// The real backend, started the way playwright.config.ts starts it (a throwaway PostgreSQL and the
// offline model), on a port of its own so it never collides with the browser tests' 8765.
const port = Number(process.env.PROTOCOL_TEST_PORT ?? 8795);
const echoPort = port + 1;
const baseUrl = `http://127.0.0.1:${port}`;
const backendDir = path.resolve(import.meta.dirname, "../../backend");
const startTimeoutMs = 240_000;

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    protocolUrl: string;
    echoUrl: string;
  }
}

async function healthy(): Promise<boolean> {
  try {
    return (await fetch(`${baseUrl}/api/v1/utils/health-check/`)).ok;
  } catch {
    return false;
  }
}

async function waitUntilHealthy(server: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) break;
    if (await healthy()) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  let tail = "";
  try {
    tail = readFileSync(logFile, "utf8").split("\n").slice(-40).join("\n");
  } catch {
    tail = "(no log)";
  }
  throw new Error(`the backend on ${baseUrl} did not become healthy (exit ${server.exitCode}):\n${tail}`);
}

async function stop(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.pid === undefined) return;
  const exited = once(server, "exit");
  // Its own process group (detached): SIGTERM reaches uv and Python, which stops PostgreSQL.
  process.kill(-server.pid, "SIGTERM");
  const timer = setTimeout(() => {
    if (server.exitCode === null && server.pid !== undefined) process.kill(-server.pid, "SIGKILL");
  }, 20_000);
  await exited;
  clearTimeout(timer);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (await healthy()) throw new Error(`port ${port} is already serving: set PROTOCOL_TEST_PORT`);
  // The server wants a built SPA to serve; the protocol tests never load it, so a stub will do.
  const dist = mkdtempSync(path.join(os.tmpdir(), "protocol-tests-dist-"));
  writeFileSync(path.join(dist, "index.html"), "<!doctype html><title>protocol tests</title>");
  const logFile = process.env.PROTOCOL_TEST_LOG_FILE ?? path.join(os.tmpdir(), `protocol-server-${port}.log`);
  const server = spawn(
    "uv",
    [
      "run",
      "python",
      "-m",
      "tests.support.e2e_server",
      `--port=${port}`,
      `--echo-port=${echoPort}`,
      `--log-file=${logFile}`,
      `--frontend-dist=${dist}`,
    ],
    {
      cwd: backendDir,
      detached: true,
      stdio: "ignore",
      env: {
        ...process.env,
        UV_PYTHON_DOWNLOADS: "never",
        // Slow enough that a stream can be read in parts, rejoined and cancelled mid-answer.
        OFFLINE_MODEL_TOKENS_PER_SECOND: process.env.OFFLINE_MODEL_TOKENS_PER_SECOND ?? "40",
      },
    },
  );
  try {
    await waitUntilHealthy(server, logFile);
  } catch (error) {
    await stop(server);
    rmSync(dist, { recursive: true, force: true });
    throw error;
  }
  project.provide("baseUrl", baseUrl);
  project.provide("protocolUrl", `${baseUrl}/agent-protocol`);
  project.provide("echoUrl", `http://127.0.0.1:${echoPort}`);
  return async () => {
    await stop(server);
    rmSync(dist, { recursive: true, force: true });
  };
}
