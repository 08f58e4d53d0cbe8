"""The evaluation report: the seed's fields plus pass rates, thresholds, usage, per-trace detail."""

import json
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.evaluation.schemas import Judgment, MetricDefinition, TraceRecord

_CALL_FAILED = re.compile(r"judge call failed after \d+ attempt\(s\): (\w+)")
OFFLINE_LABEL = "offline (deterministic text heuristics, NOT an LLM judge; for demos and tests)"


def failure_reason(error: str | None) -> str:
    """A failed judgment's cause without per-call detail, so equal causes count together."""
    text = (error or "unknown error").strip()
    call = _CALL_FAILED.match(text)
    if call:
        return f"judge call failed: {call.group(1)}"
    return text.split(" (", 1)[0][:120]


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


class ReportBuilder:
    """Collects judgments (in any order, from concurrent workers) and builds the report dict."""

    def __init__(
        self,
        *,
        judge_name: str,
        offline: bool,
        metrics: list[MetricDefinition],
        source: str,
        window: tuple[datetime, datetime],
        options: dict[str, Any],
    ) -> None:
        self.started_at = datetime.now(UTC)
        self.judge_name, self.offline, self.source = judge_name, offline, source
        self.metrics = {metric.name: metric for metric in metrics}
        self.window, self.options = window, options
        self.traces: dict[str, TraceRecord] = {}
        self.results: dict[str, dict[str, Judgment]] = defaultdict(dict)
        self.skipped: dict[str, int] = defaultdict(int)
        self.earlier: dict[str, list[float]] = defaultdict(list)
        self.fully_skipped_traces = 0
        self.traces_seen = 0
        self.storage = {"langfuse_scores_queued": 0, "db_rows_written": 0, "errors": 0}

    def add_seen(
        self,
        trace: TraceRecord,
        pending: list[MetricDefinition],
        earlier: dict[str, float] | None = None,
    ) -> None:
        """Record a fetched trace, which selected metrics it already had, and those scores."""
        self.traces_seen += 1
        for name in self.metrics:
            if name not in {metric.name for metric in pending}:
                self.skipped[name] += 1
        for name, score in (earlier or {}).items():
            self.earlier[name].append(score)
        if pending:
            self.traces[trace.trace_id] = trace
        else:
            self.fully_skipped_traces += 1

    def add(self, judgment: Judgment) -> None:
        """Record one finished judgment."""
        self.results[judgment.trace_id][judgment.metric] = judgment

    def _metric_summary(self, name: str, metric: MetricDefinition) -> dict[str, Any]:
        judged = [r[name] for r in self.results.values() if name in r]
        ok = [j for j in judged if j.ok and j.score is not None]
        scores = [j.score for j in ok if j.score is not None]
        passed = sum(1 for j in ok if j.passed)
        not_applicable = sum(1 for j in judged if j.not_applicable)
        reasons = Counter(
            failure_reason(j.error) for j in judged if not j.ok and not j.not_applicable
        )
        earlier = self.earlier.get(name, [])
        window_passed = passed + sum(1 for score in earlier if metric.passed(score))
        window_scores = len(ok) + len(earlier)
        return {
            "success_count": len(ok),
            "failure_count": len(judged) - len(ok) - not_applicable,
            "not_applicable_count": not_applicable,  # neither pass nor fail
            "failure_reasons": dict(reasons.most_common()),
            "avg_score": _round(sum(scores) / len(scores)) if scores else None,
            "skipped_count": self.skipped.get(name, 0),
            "passed_count": passed,
            "pass_rate": _round(passed / len(ok)) if ok else None,
            # What the gate reads: this run's scores plus this judge's earlier ones (same prompt
            # version) on the window's traces.
            "earlier_count": len(earlier),
            "window_scores": window_scores,
            "window_passed": window_passed,
            "window_pass_rate": _round(window_passed / window_scores) if window_scores else None,
            "threshold": metric.threshold,
            "higher_is_better": metric.higher_is_better,
            "min_pass_rate": metric.min_pass_rate,
            "version": metric.version,
            "description": metric.description,
        }

    def _usage(self) -> dict[str, Any]:
        judgments = [j for r in self.results.values() for j in r.values()]
        costs = [j.usage.cost_usd for j in judgments if j.attempts > 0]
        known = all(c is not None for c in costs)
        return {
            "calls": sum(j.attempts for j in judgments),
            "judgments": len(judgments),
            "input_tokens": sum(j.usage.input_tokens for j in judgments),
            "output_tokens": sum(j.usage.output_tokens for j in judgments),
            # Unknown is null, never a partial sum that reads as the price.
            "cost_usd": _round(sum(c for c in costs if c is not None), 6) if known else None,
            "cost_known": known,
        }

    def _trace_detail(self, trace_id: str) -> dict[str, Any]:
        trace = self.traces[trace_id]
        results = {}
        for name, judgment in sorted(self.results.get(trace_id, {}).items()):
            results[name] = {
                "success": judgment.ok or judgment.not_applicable,
                "not_applicable": judgment.not_applicable,
                "score": judgment.score,
                "passed": judgment.passed,
                "reasoning": judgment.reasoning,
                "error": judgment.error,
                "attempts": judgment.attempts,
                "latency_ms": judgment.latency_ms,
                "input_tokens": judgment.usage.input_tokens,
                "output_tokens": judgment.usage.output_tokens,
                "cost_usd": judgment.usage.cost_usd,
            }
        return {
            "trace_id": trace_id,
            "run_id": str(trace.run_id) if trace.run_id else None,
            "name": trace.name,
            "timestamp": trace.timestamp.isoformat() if trace.timestamp else None,
            "metrics_evaluated": len(results),
            "metrics_succeeded": sum(1 for r in results.values() if r["success"]),
            "metrics_results": results,
        }

    def build(self, duration_seconds: float) -> dict[str, Any]:
        """The report dict (JSON-serialisable)."""
        details = [self._trace_detail(trace_id) for trace_id in self.traces]
        ok = [
            d
            for d in details
            if d["metrics_evaluated"] and d["metrics_succeeded"] == d["metrics_evaluated"]
        ]
        failed = [d for d in details if d not in ok]
        judgments = sum(d["metrics_evaluated"] for d in details)
        return {
            "timestamp": self.started_at.isoformat(),
            "model": self.judge_name,
            "judge": "offline" if self.offline else "llm",
            "judge_label": OFFLINE_LABEL if self.offline else f"LLM judge {self.judge_name}",
            "source": self.source,
            "window": {"since": self.window[0].isoformat(), "until": self.window[1].isoformat()},
            "options": self.options,
            "total_traces": len(details),
            "successful_traces": len(ok),
            "failed_traces": len(failed),
            "skipped_traces": self.fully_skipped_traces,
            "traces_seen": self.traces_seen,
            "duration_seconds": round(duration_seconds, 2),
            "judgments_per_second": _round(judgments / duration_seconds, 2)
            if duration_seconds > 0
            else None,
            "metrics_summary": {n: self._metric_summary(n, m) for n, m in self.metrics.items()},
            "judge_usage": self._usage(),
            "storage": dict(self.storage),
            "successful_traces_details": ok,
            "failed_traces_details": failed,
            "report_path": None,
        }


def write_report(report: dict[str, Any], directory: Path, prefix: str = "evaluation") -> Path:
    """Write `{prefix}_YYYYMMDD_HHMMSS.json` (never overwriting); record its path in the report."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S")
    path = directory / f"{prefix}_{stamp}.json"
    suffix = 1
    while path.exists():
        path = directory / f"{prefix}_{stamp}_{suffix}.json"
        suffix += 1
    report["report_path"] = str(path)
    path.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    return path


def summary_only(report: dict[str, Any]) -> dict[str, Any]:
    """The report without per-trace details (what the API job stores)."""
    return {k: v for k, v in report.items() if not k.endswith("_traces_details")}


def gate_failures(
    report: dict[str, Any], fail_under: float | None = None, min_judged: int = 1
) -> list[str]:
    """Why the CI gate fails, per metric: fewer than `min_judged` scores in the window, every
    judgment of this run failed, or the window's pass rate (this run's scores and this judge's
    earlier ones, same prompt version) below `fail_under` (else the metric's `min_pass_rate`)."""
    failures = []
    for name, summary in report["metrics_summary"].items():
        bar = summary["min_pass_rate"] if fail_under is None else fail_under
        count = summary["window_scores"]
        if summary["success_count"] == 0 and summary["failure_count"]:
            failures.append(f"{name}: all {summary['failure_count']} judgments failed")
        elif count < min_judged:
            failures.append(f"{name}: {count} score(s) in the window, fewer than {min_judged}")
        elif count and summary["window_pass_rate"] < bar:
            failures.append(
                f"{name}: pass rate {summary['window_pass_rate']:.1%} < {bar:.1%} "
                f"over {count} score(s)"
            )
    return failures
