#!/usr/bin/env node
// Fails when the committed API client is stale:
//  1. the backend's current OpenAPI (dumped with uv) must equal frontend/openapi.json, and
//  2. regenerating from it must reproduce frontend/src/client/ byte for byte.
// Fix with: scripts/generate-client.sh (repo root). `--spec-only-from-file` skips step 1.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const frontend = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const backend = path.resolve(frontend, "../backend");
const committedSpec = path.join(frontend, "openapi.json");
const committedClient = path.join(frontend, "src/client");
const skipBackend = process.argv.includes("--spec-only-from-file");
const FIX =
  "Regenerate it with scripts/generate-client.sh and commit frontend/openapi.json and frontend/src/client/.";

function fail(message) {
  console.error(`check-client: ${message}\n${FIX}`);
  process.exit(1);
}

function listFiles(dir, base = dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? listFiles(full, base) : [path.relative(base, full)];
  });
}

const work = mkdtempSync(path.join(tmpdir(), "check-client-"));
try {
  let spec = committedSpec;
  if (!skipBackend) {
    const dump = spawnSync(
      "uv",
      [
        "run",
        "--quiet",
        "python",
        "-c",
        "import json; from app.main import app; print(json.dumps(app.openapi(), indent=2))",
      ],
      {
        cwd: backend,
        encoding: "utf8",
        env: { ...process.env, UV_PYTHON_DOWNLOADS: "never", APP_ENV: "test" },
      },
    );
    if (dump.status !== 0) {
      console.error(dump.stderr);
      fail("could not dump the backend's OpenAPI (is uv installed and the backend synced?)");
    }
    spec = path.join(work, "openapi.json");
    writeFileSync(spec, dump.stdout);
    if (dump.stdout !== readFileSync(committedSpec, "utf8")) {
      fail("frontend/openapi.json differs from the backend's current OpenAPI.");
    }
  }

  const out = path.join(work, "client");
  const generate = spawnSync(
    process.execPath,
    [path.join(frontend, "node_modules/@hey-api/openapi-ts/bin/run.js")],
    {
      cwd: frontend,
      encoding: "utf8",
      env: { ...process.env, OPENAPI_TS_INPUT: spec, OPENAPI_TS_OUT_DIR: out },
    },
  );
  if (generate.status !== 0) {
    console.error(generate.stdout, generate.stderr);
    fail("openapi-ts failed");
  }

  const expected = listFiles(out).sort();
  const actual = listFiles(committedClient).sort();
  const missing = expected.filter((f) => !actual.includes(f));
  const extra = actual.filter((f) => !expected.includes(f));
  const changed = expected.filter(
    (f) =>
      actual.includes(f) &&
      readFileSync(path.join(out, f), "utf8") !== readFileSync(path.join(committedClient, f), "utf8"),
  );
  if (missing.length || extra.length || changed.length) {
    fail(
      `src/client/ is stale:${missing.map((f) => `\n  missing  ${f}`).join("")}${extra
        .map((f) => `\n  extra    ${f}`)
        .join("")}${changed.map((f) => `\n  changed  ${f}`).join("")}`,
    );
  }
  console.log(`check-client: src/client/ matches the backend's OpenAPI (${expected.length} files).`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
