"""Benchmark judge throughput of the evaluator against a slow OpenAI-compatible judge, and the
throughput of an experiment run (agent + judge per dataset item).

The judge is the local stub (tests/fakes/openai_server.py, a separate process on loopback)
answering every request after a fixed latency, so the ceiling is concurrency / latency
judgments per second (16 / 0.5 s = 32/s). Traces come from memory: nothing is read from or
written to Langfuse or a database, so the figure isolates the judge pipeline (prompt building,
langchain-openai -> httpx -> stub, structured-output parsing, retries, the report).

The experiment part runs `ExperimentRunner` over in-memory dataset items: the task is an agent
stub (a second stub process: one chat completion after `--agent-latency-ms`), then every metric
is judged concurrently. An item therefore takes agent latency + judge latency, and the ceiling is
items in flight / (agent + judge latency) items/s (16 / 1.0 s = 16/s).

    cd backend && uv run python scripts/bench_eval.py [--traces 200] [--concurrency 16]
        [--latency-ms 500] [--repeat 3] [--items 100] [--item-concurrency 16]
        [--agent-latency-ms 500] [--skip-judge-bench]
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
from app.evaluation.datasets import DatasetItemRecord, ExperimentRunRecord  # noqa: E402
from app.evaluation.experiment import ExperimentRunner, TaskOutcome, summarise  # noqa: E402
from app.evaluation.judge import LLMJudge  # noqa: E402
from app.evaluation.metrics import load_metrics  # noqa: E402
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


class MemoryStore:
    """A dataset store that only counts links (the bench measures the run, not a database)."""

    kind = "memory"

    def __init__(self) -> None:
        self.links = 0

    async def link(self, *_args: object) -> None:
        """Count the link."""
        self.links += 1

    async def run(self, name: str, run_name: str) -> ExperimentRunRecord:
        """Unused."""
        raise NotImplementedError


async def one_experiment(
    agent_url: str, judge_url: str, items: int, concurrency: int
) -> dict[str, float]:
    """One experiment of `items` dataset items x 3 metrics; the measured figures."""
    metrics = [load_metrics()[name] for name in ("helpfulness", "relevancy", "toxicity")]
    judge = LLMJudge(model="gpt-4o-mini", base_url=judge_url, api_key="bench", min_interval=0.0)
    store = MemoryStore()
    limits = httpx.Limits(max_connections=256)
    async with httpx.AsyncClient(base_url=agent_url, timeout=30, limits=limits) as agent:

        async def task(item: DatasetItemRecord) -> TaskOutcome:
            response = await agent.post(
                "/chat/completions",
                json={"model": "agent", "messages": [{"role": "user", "content": item.input}]},
            )
            response.raise_for_status()
            answer = response.json()["choices"][0]["message"]["content"] or "ok"
            trace = TraceRecord(
                trace_id=item.id, input=item.input, output=answer, has_langfuse_trace=False
            )
            return TaskOutcome(trace=trace)

        runner = ExperimentRunner(
            store=store,  # type: ignore[arg-type]
            dataset="bench",
            run_name="bench",
            task=task,
            judge=judge,
            metrics=metrics,
            reference=None,
            concurrency=concurrency,
            sessions=None,  # type: ignore[arg-type]  (no run ids: nothing is written)
            langfuse=None,
        )
        records = [
            DatasetItemRecord(id=f"item-{i}", input=f"show my items (request {i})")
            for i in range(items)
        ]
        started = time.perf_counter()
        try:
            results = await runner.run(records)
        finally:
            await judge.aclose()
        elapsed = time.perf_counter() - started
    summary = summarise(results, metrics, None, started)
    judged = sum(m["judged"] for m in summary["metrics"].values())
    return {
        "items": len(results),
        "judgments": judged,
        "failures": sum(m["failed"] for m in summary["metrics"].values())
        + len(summary["items_failed"]),
        "seconds": elapsed,
        "per_second": len(results) / elapsed,
    }


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
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--item-concurrency", type=int, default=16)
    parser.add_argument("--agent-latency-ms", type=int, default=500)
    parser.add_argument("--skip-judge-bench", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    print(f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if not args.skip_judge_bench:
        judge_bench(args)
    experiment_bench(args)


def experiment_bench(args: argparse.Namespace) -> None:
    """Items/s of an experiment run against its limit."""
    per_item = (args.agent_latency_ms + args.latency_ms) / 1000
    limit = args.item_concurrency / per_item if per_item else float("inf")
    print(
        f"experiment: {args.items} items x 3 metrics, {args.item_concurrency} items in flight, "
        f"agent stub {args.agent_latency_ms} ms + judge stub {args.latency_ms} ms "
        f"-> limit {limit:.1f} items/s"
    )
    agent_proc, agent_url = start_stub(args.agent_latency_ms)
    judge_proc, judge_url = start_stub(args.latency_ms)
    try:
        rates = []
        for attempt in range(1, args.repeat + 1):
            cpu_before = time.process_time()
            result = asyncio.run(
                one_experiment(agent_url, judge_url, args.items, args.item_concurrency)
            )
            rates.append(result["per_second"])
            cpu = time.process_time() - cpu_before
            print(
                f"experiment run {attempt}: {result['items']:.0f} items, "
                f"{result['judgments']:.0f} judgments ({result['failures']:.0f} failed) in "
                f"{result['seconds']:.2f} s = {result['per_second']:.2f} items/s "
                f"({result['per_second'] / limit:.0%} of the limit); "
                f"this process's CPU {1000 * cpu / result['items']:.1f} ms per item"
            )
        best = statistics.median(rates)
        print(f"experiment median: {best:.2f} items/s = {best / limit:.0%} of {limit:.1f}/s")
    finally:
        for proc in (agent_proc, judge_proc):
            proc.terminate()
            proc.wait(timeout=10)


def judge_bench(args: argparse.Namespace) -> None:
    """Judgments/s of the evaluator against its limit."""
    limit = args.concurrency / (args.latency_ms / 1000)
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
