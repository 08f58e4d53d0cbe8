"""Benchmark judge throughput of the evaluator against a slow OpenAI-compatible judge.

The judge is the local stub (tests/fakes/openai_server.py, a separate process on loopback)
answering every request after a fixed latency, so the ceiling is concurrency / latency
judgments per second (16 / 0.5 s = 32/s). Traces come from memory: nothing is read from or
written to Langfuse or a database, so the figure isolates the judge pipeline (prompt building,
langchain-openai -> httpx -> stub, structured-output parsing, retries, the report).

    cd backend && uv run python scripts/bench_eval.py [--traces 200] [--concurrency 16]
        [--latency-ms 500] [--repeat 3]
"""

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

BACKEND = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BACKEND))

from app.evaluation import EvaluationOptions, Evaluator  # noqa: E402
from app.evaluation.judge import LLMJudge  # noqa: E402
from app.evaluation.schemas import TraceRecord  # noqa: E402
from tests.support.postgres import free_port  # noqa: E402


class MemorySource:
    """`count` synthetic traces, in pages of 100 like the Langfuse source."""

    name = "memory"

    def __init__(self, count: int) -> None:
        self.count = count

    async def pages(self) -> AsyncIterator[list[TraceRecord]]:
        """Yield the traces page by page."""
        traces = [
            TraceRecord(
                trace_id=f"{index:032x}",
                input=f"user: show my items (request {index})",
                output=f"You have {index % 7} items: apples, pears and a note from day {index}.",
                has_langfuse_trace=False,
            )
            for index in range(self.count)
        ]
        for start in range(0, len(traces), 100):
            yield traces[start : start + 100]


def start_stub(latency_ms: int) -> tuple[subprocess.Popen[bytes], str]:
    """The OpenAI-compatible stub in auto mode (it answers a forced tool call from its schema)."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.openai_server",
            "--port",
            str(port),
            "--latency-ms",
            str(latency_ms),
        ],
        cwd=BACKEND,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1).status_code == 200:
                return proc, f"http://127.0.0.1:{port}/v1"
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise TimeoutError("judge stub did not start")


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


async def one_run(base_url: str, traces: int, concurrency: int) -> dict[str, float]:
    """One evaluation of `traces` x 5 metrics; the measured figures."""
    judge = LLMJudge(model="gpt-4o-mini", base_url=base_url, api_key="bench", min_interval=0.0)
    evaluator = Evaluator(
        EvaluationOptions(concurrency=concurrency, judge="llm"),
        judge=judge,
        langfuse=None,
        source=MemorySource(traces),
        use_database=False,
    )
    started = time.perf_counter()
    try:
        report = await evaluator.run(generate_report_file=False)
    finally:
        await judge.aclose()
    elapsed = time.perf_counter() - started
    details = report["successful_traces_details"] + report["failed_traces_details"]
    latencies = [r["latency_ms"] for d in details for r in d["metrics_results"].values()]
    judgments = report["judge_usage"]["judgments"]
    failures = sum(m["failure_count"] for m in report["metrics_summary"].values())
    return {
        "judgments": judgments,
        "failures": failures,
        "seconds": elapsed,
        "per_second": judgments / elapsed,
        "latency_p50_ms": statistics.median(latencies),
        "latency_max_ms": max(latencies),
    }


def main() -> None:
    """Run the benchmark and print the figures with the machine."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--traces", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-ms", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    limit = args.concurrency / (args.latency_ms / 1000)
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}")
    print(
        f"workload: {args.traces} traces x 5 metrics, concurrency {args.concurrency}, "
        f"judge stub latency {args.latency_ms} ms -> limit {limit:.1f} judgments/s"
    )
    proc, base_url = start_stub(args.latency_ms)
    try:
        results = []
        for attempt in range(1, args.repeat + 1):
            result = asyncio.run(one_run(base_url, args.traces, args.concurrency))
            results.append(result)
            print(
                f"run {attempt}: {result['judgments']:.0f} judgments "
                f"({result['failures']:.0f} failed) "
                f"in {result['seconds']:.2f} s = {result['per_second']:.1f}/s "
                f"({result['per_second'] / limit:.0%} of the limit); judge latency "
                f"p50 {result['latency_p50_ms']:.0f} ms, max {result['latency_max_ms']:.0f} ms"
            )
        best = statistics.median(r["per_second"] for r in results)
        print(f"median: {best:.1f} judgments/s = {best / limit:.0%} of {limit:.1f}/s")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
