"""Multiprocess mode: several worker processes write metrics, one scrape adds them up."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from app.core.config import BACKEND_DIR
from tests.observability.helpers import parse_samples, value

WRITER = textwrap.dedent(
    """
    import sys, time
    from app.core import metrics
    metrics.init_metrics()
    status, prompt, completion, leave_active, clean_exit = sys.argv[1:6]
    metrics.run_started()
    metrics.run_finished(status, 1.25, int(prompt), int(completion))
    metrics.TOOL_INVOCATIONS.labels(tool="lookup_user_items", status="success").inc()
    if leave_active == "1":
        metrics.run_started()  # still running when this worker stops
    if clean_exit == "1":
        metrics.shutdown_metrics()
    print("ok")
    """
)
READER = (
    "import sys; from app.core.metrics import render_metrics; "
    "sys.stdout.write(render_metrics().decode())"
)


def run_python(code: str, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=BACKEND_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_workers_are_aggregated_in_one_scrape(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    workers = [
        run_python(WRITER, env, "success", "100", "10", "1", "0"),  # dies with one run active
        run_python(WRITER, env, "error", "50", "5", "0", "1"),
        run_python(WRITER, env, "success", "7", "3", "1", "1"),  # clean shutdown drops its gauge
    ]
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0 and out.strip() == "ok", err
    assert len(list(tmp_path.glob("*.db"))) >= 3  # per-process files were written

    reader = run_python(READER, env)
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    samples = parse_samples(out)
    assert value(samples, "agent_invocations_total") == 5
    assert value(samples, "agent_invocations_by_status_total", status="completed") == 2
    assert value(samples, "agent_invocations_by_status_total", status="failed") == 1
    assert value(samples, "agent_invocations_by_status_total", status="timeout") == 0
    assert value(samples, "agent_tokens_total", type="prompt") == 157
    assert value(samples, "agent_tokens_total", type="completion") == 18
    assert value(samples, "agent_execution_duration_seconds_count") == 3
    assert value(samples, "agent_execution_duration_seconds_sum") == 3.75
    assert value(samples, "tool_invocations_total", tool="lookup_user_items", status="success") == 3
    # livesum: the two workers that shut down cleanly removed their gauge files.
    assert value(samples, "agent_active_executions") == 1
    infos = [labels for (name, labels) in samples if name == "app_info"]
    assert len(infos) == 1 and value(samples, "app_info", **dict(infos[0])) == 1


def test_single_process_mode_without_the_directory() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    code = WRITER.replace(
        'print("ok")',
        "from app.core.metrics import render_metrics; sys.stdout.write(render_metrics().decode())",
    )
    worker = run_python(code, env, "success", "11", "2", "0", "0")
    out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    samples = parse_samples(out)
    assert value(samples, "agent_invocations_total") == 1
    assert value(samples, "agent_tokens_total", type="prompt") == 11
    assert "process_cpu_seconds_total" in {name for name, _ in samples}  # default collectors
