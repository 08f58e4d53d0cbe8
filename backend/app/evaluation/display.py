"""CLI console output: a Rich progress bar and tables on a terminal, plain lines otherwise."""

import time
from types import TracebackType
from typing import Any, Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from app.evaluation.evaluator import EvaluationProgress

PLAIN_EVERY = 50  # judgments between two progress lines when not on a terminal...
PLAIN_SECONDS = 5.0  # ...or this many seconds, whichever comes first


def _avg(summary: dict[str, Any]) -> str:
    return f"{summary['avg_score']:.3f}" if summary["success_count"] else "n/a"


def _reasons(summary: dict[str, Any]) -> str:
    reasons = summary.get("failure_reasons") or {}
    return "; ".join(f"{count}x {reason}" for reason, count in reasons.items()) or "-"


def _gate_ok(summary: dict[str, Any]) -> bool:
    if summary["pass_rate"] is None:
        return not summary["failure_count"]  # every judgment failed: not a pass
    return bool(summary["pass_rate"] >= summary["min_pass_rate"])


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


class ProgressDisplay:
    """Shows evaluation progress; use as an async context manager around the run."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.tty = console.is_terminal
        self._bar: Progress | None = None
        self._task: Any = None
        self._printed: tuple[int, int] = (0, -1)
        self._printed_at = time.monotonic()

    def __enter__(self) -> Self:
        if self.tty:
            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("[bold]judging[/] {task.fields[detail]}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("judging", total=None, detail="fetching traces…")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    async def update(self, p: EvaluationProgress) -> None:
        """Progress callback for `Evaluator`."""
        detail = (
            f"{p.traces_seen} traces, {p.judgments_skipped} already scored, "
            f"{p.judgments_failed} failed"
        )
        if self._bar is not None:
            total = p.judgments_total if p.source_exhausted or p.judgments_total else None
            self._bar.update(self._task, total=total, completed=p.judgments_done, detail=detail)
            return
        finished = p.source_exhausted and p.judgments_done == p.judgments_total
        state = (p.judgments_done, p.judgments_total)
        due = (
            finished
            or p.judgments_done - self._printed[0] >= PLAIN_EVERY
            or time.monotonic() - self._printed_at >= PLAIN_SECONDS
        )
        if due and state != self._printed:
            self._printed, self._printed_at = state, time.monotonic()
            self.console.print(
                f"progress: {p.judgments_done}/{p.judgments_total} judgments; {detail}",
                highlight=False,
            )


def print_summary(console: Console, report: dict[str, Any]) -> None:
    """The per-metric summary: a table on a terminal, one line per metric otherwise."""
    console.print(f"judge: {report['judge_label']}", highlight=False)
    if console.is_terminal:
        table = Table(title=f"Evaluation ({report['source']}, {report['total_traces']} traces)")
        columns = ("metric", "dir", "judged", "failed", "skipped", "n/a", "avg", "pass rate", "bar")
        for column in (*columns, "failure reasons"):
            table.add_column(column, justify="right" if column in columns[1:] else "left")
        for name, m in report["metrics_summary"].items():
            ok = _gate_ok(m)
            table.add_row(
                name,
                "↑" if m["higher_is_better"] else "↓",
                str(m["success_count"]),
                str(m["failure_count"]),
                str(m["skipped_count"]),
                str(m.get("not_applicable_count", 0)),
                _avg(m),
                f"[{'green' if ok else 'red'}]{_pct(m['pass_rate'])}[/]",
                _pct(m["min_pass_rate"]),
                _reasons(m),
            )
        console.print(table)
    else:
        for name, m in report["metrics_summary"].items():
            console.print(
                f"metric {name}: judged={m['success_count']} failed={m['failure_count']} "
                f"skipped={m['skipped_count']} n/a={m.get('not_applicable_count', 0)} "
                f"avg_score={_avg(m)} "
                f"pass_rate={_pct(m['pass_rate'])} threshold={m['threshold']} "
                f"higher_is_better={m['higher_is_better']}"
                + (f" failures: {_reasons(m)}" if m["failure_count"] else ""),
                highlight=False,
            )
    usage = report["judge_usage"]
    cost = (
        f"${usage['cost_usd']:.4f}"
        if usage["cost_usd"] is not None
        else "unknown (no price for model)"
    )
    console.print(
        f"traces: {report['total_traces']} judged ({report['successful_traces']} ok, "
        f"{report['failed_traces']} with failures), {report['skipped_traces']} already scored; "
        f"judge calls {usage['calls']}, tokens {usage['input_tokens']}+{usage['output_tokens']}, "
        f"cost {cost}; {report['duration_seconds']}s",
        highlight=False,
    )


def print_calibration(console: Console, result: dict[str, Any]) -> None:
    """Agreement, kappa and the confusion matrix for one metric."""
    matrix = result["confusion_matrix"]
    console.print(
        f"[bold]{result['metric']}[/] (judge {result.get('judge_model') or '?'}, prompt version "
        f"{result['prompt_version']}): {result['message']}"
    )
    if result["labelled_runs"]:
        kappa = "n/a" if result["kappa"] is None else f"{result['kappa']:.3f}"
        if result.get("kappa_ci95"):
            low, high = result["kappa_ci95"]
            kappa += f" (95% CI {low:.2f} to {high:.2f})"
        console.print(
            f"  agreement {_pct(result['agreement'])}, Cohen's kappa {kappa} "
            f"({result['interpretation']})",
            highlight=False,
        )
    table = Table(title="rows: human, columns: judge", show_header=True)
    table.add_column("")
    table.add_column("judge pass", justify="right")
    table.add_column("judge fail", justify="right")
    for row in ("human_pass", "human_fail"):
        table.add_row(
            row.replace("_", " "), str(matrix[row]["judge_pass"]), str(matrix[row]["judge_fail"])
        )
    console.print(table)


def print_experiment(console: Console, report: dict[str, Any]) -> None:
    """An experiment run: per-metric lines, failed items, where it is stored."""
    console.print(
        f"experiment {report['run_name']} on {report['dataset']} ({report['store']}), "
        f"judge {report['judge_model']}: {report['items_answered']}/{report['items']} items "
        f"answered in {report['duration_seconds']:.1f}s ({report['items_per_second']} items/s)",
        highlight=False,
    )
    for name, m in report["metrics"].items():
        avg = "n/a" if m["avg_score"] is None else f"{m['avg_score']:.3f}"
        console.print(
            f"metric {name}: judged={m['judged']} failed={m['failed']} "
            f"n/a={m['not_applicable']} avg_score={avg} pass_rate={_pct(m['pass_rate'])}"
            + (f" failures: {'; '.join(m['failure_reasons'])}" if m["failed"] else ""),
            highlight=False,
        )
    for failed in report["items_failed"][:20]:
        console.print(f"item {failed['item_id']}: {failed['error']}", highlight=False)
    console.print(
        f"report: {report['report_path']}" if report["report_path"] else "report: not written",
        highlight=False,
    )
