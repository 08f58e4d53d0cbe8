"""Start the app's own processes for tests: uvicorn API processes and run workers."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.utils import API

BACKEND_DIR = Path(__file__).resolve().parents[2]


def start_api(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`uvicorn app.main:app` on loopback.

    `--no-proxy-headers` as in scripts/serve_production.py: client IPs come from TRUSTED_PROXIES;
    with GRACEFUL_SHUTDOWN_SECONDS in `env`, uvicorn's graceful shutdown is that long, as there.
    """
    grace = env.get("GRACEFUL_SHUTDOWN_SECONDS")
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                "--no-proxy-headers",
                *(["--timeout-graceful-shutdown", grace] if grace else []),
            ],
            cwd=BACKEND_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def start_run_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`python -m app.worker`: executes queued runs."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "app.worker"],
            cwd=BACKEND_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_healthy(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Wait until the API process's health check answers."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}{API}/utils/health-check/").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"process did not start: {log.read_text()[-2000:]}")


def wait_log_line(process: subprocess.Popen[bytes], log: Path, text: str) -> None:
    """Wait until `text` appears in the process's log (e.g. the worker's ready line)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited ({process.returncode}): {log.read_text()[-2000:]}")
        if log.exists() and text in log.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{text!r} never logged: {log.read_text()[-2000:]}")


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Terminate, then kill what doesn't exit in time."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def log_errors(log: Path) -> list[str]:
    """A child's errors: its JSON log lines at level error (as `logger: event`), and any line
    that isn't JSON (a traceback printed before logging was set up)."""
    errors = []
    for line in log.read_text(errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            errors.append(line)
            continue
        if entry.get("level") == "error":
            errors.append(f"{entry.get('logger')}: {str(entry.get('event'))[:200]}")
    return errors


def child_env(**overrides: str) -> dict[str, str]:
    """This process's environment (test database included) plus overrides."""
    return {**os.environ, "LOG_LEVEL": "INFO", "LOG_FORMAT": "json", **overrides}
