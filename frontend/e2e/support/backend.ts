import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, openSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const FRONTEND_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BACKEND_DIR = path.resolve(FRONTEND_DIR, "../backend");
// The venv's interpreter, not `uv run`: SIGKILL must hit the server itself, not a wrapper.
const VENV_PYTHON = path.join(BACKEND_DIR, ".venv", "bin", "python");

/**
 * A backend of its own for a test that kills and restarts it: the embedded default (SQLite in a
 * temporary DATA_DIR, in-process worker, no Redis), the offline model, serving the built frontend.
 * Restarting keeps DATA_DIR, so the database (and any run left `running`) survives the kill.
 */
export class KillableBackend {
  readonly url: string;
  readonly dataDir = mkdtempSync(path.join(os.tmpdir(), "app-e2e-killable-"));
  private process: ChildProcess | null = null;

  constructor(
    readonly port: number,
    private readonly extraEnv: Record<string, string> = {},
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  private env(): NodeJS.ProcessEnv {
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(
        ([key]) => !/^(DATABASE_URL|REDIS_|POSTGRES_|OFFLINE_MODEL_|AGENT_|LLM_)/.test(key),
      ),
    );
    return {
      ...inherited,
      APP_ENV: "test",
      SECRET_KEY: "e2e-secret-key-0123456789abcdef0123456789abcdef",
      FIRST_SUPERUSER: "admin@example.com",
      FIRST_SUPERUSER_PASSWORD: "e2e-admin-password",
      FRONTEND_DIST_DIR: path.join(FRONTEND_DIR, "dist"),
      FRONTEND_HOST: this.url,
      DATA_DIR: this.dataDir,
      LLM_MODEL_PROVIDER: "offline",
      LANGFUSE_ENABLED: "false",
      LOG_FORMAT: "json",
      ...this.extraEnv,
    };
  }

  private python(args: string[]): ChildProcess {
    const log = openSync(path.join(this.dataDir, "server.log"), "a");
    const [command, prefix] = existsSync(VENV_PYTHON)
      ? [VENV_PYTHON, []]
      : ["uv", ["run", "--frozen", "python"]];
    return spawn(command, [...prefix, ...args], {
      cwd: BACKEND_DIR,
      env: this.env(),
      stdio: ["ignore", log, log],
    });
  }

  /** Migrate (first start only matters) and serve; resolves once the health check answers. */
  async start(timeoutMs = 90_000): Promise<void> {
    const prestart = this.python(["-m", "app.prestart"]);
    const code = await new Promise<number | null>((resolve) => prestart.on("exit", resolve));
    if (code !== 0) throw new Error(`prestart failed (${code}); see ${this.dataDir}/server.log`);
    this.process = this.python([
      "-m",
      "uvicorn",
      "app.main:app",
      "--host",
      "127.0.0.1",
      "--port",
      String(this.port),
    ]);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.process.exitCode !== null)
        throw new Error(`the backend exited; see ${this.dataDir}/server.log`);
      try {
        const response = await fetch(`${this.url}/api/v1/utils/health-check/`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`the backend did not answer within ${timeoutMs} ms; see ${this.dataDir}/server.log`);
  }

  /** SIGKILL: no shutdown hook runs, as in a crash. */
  async kill(): Promise<void> {
    await this.signal("SIGKILL");
  }

  /** Stop for good and delete the data. */
  async stop(): Promise<void> {
    await this.signal("SIGTERM");
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.process;
    this.process = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.on("exit", resolve));
    child.kill(signal);
    await exited;
  }
}
