"""Per-metric human labels: which metric names a label may use, and their Langfuse annotation
scores (BOOLEAN, named like the metric, 1 = pass) that `agent-eval calibrate` reads back."""

import asyncio
import threading
import uuid
from collections.abc import Mapping
from typing import Any

import structlog
from langfuse.api import CreateScoreRequest

from app.core.config import settings
from app.core.telemetry import langfuse_base_url
from app.evaluation.metrics import load_metrics, select_metrics
from app.evaluation.outputs import score_id
from app.models import AgentFeedback, AgentRun, FeedbackMetricPublic

logger = structlog.get_logger(__name__)
LABEL_PRODUCER = "user-feedback"
# Score config id per (Langfuse project, metric): annotation scores need one; found or created
# once per process (configs can be archived in Langfuse, never deleted).
_config_ids: dict[tuple[str, str, str], str] = {}
_config_lock = threading.Lock()


class FeedbackLabelError(ValueError):
    """Labels that name something other than a metric the judge scores (answered 422)."""


def label_metrics() -> list[FeedbackMetricPublic]:
    """The metrics a person can label: every trace metric (name and description)."""
    return [
        FeedbackMetricPublic(name=m.name, description=m.description)
        for m in select_metrics(load_metrics())
    ]


async def check_labels(labels: Mapping[str, str] | None) -> None:
    """`FeedbackLabelError` when a label's name is not one of the metrics."""
    if not labels:
        return
    known = {m.name for m in await asyncio.to_thread(label_metrics)}
    unknown = sorted(set(labels) - known)
    if unknown:
        raise FeedbackLabelError(
            f"unknown metric(s) {', '.join(unknown)}; labels may use: {', '.join(sorted(known))}"
        )


def label_score_id(trace_id: str, metric: str, user_id: uuid.UUID) -> str:
    """One annotation per (trace, metric, user): an update overwrites it."""
    return score_id(trace_id, metric, "human-label", str(user_id))


def _config_id(client: Any, metric: str) -> str:
    key = (langfuse_base_url(), str(settings.LANGFUSE_PUBLIC_KEY), metric)
    with _config_lock:
        if key in _config_ids:
            return _config_ids[key]
        page = 1
        while True:
            configs = client.api.score_configs.get(page=page, limit=100)
            for config in configs.data:
                if (
                    config.name == metric
                    and config.data_type == "BOOLEAN"
                    and not config.is_archived
                ):
                    _config_ids[key] = str(config.id)
                    return str(config.id)
            if page >= configs.meta.total_pages:
                break
            page += 1
        created = client.api.score_configs.create(
            name=metric,
            data_type="BOOLEAN",
            description=f"A person's pass/fail label for the {metric} metric (agent-eval).",
        )
        _config_ids[key] = str(created.id)
        return str(created.id)


def send_label_scores(
    client: Any, run: AgentRun, feedback: AgentFeedback, removed: list[str]
) -> None:
    """Write the labels as ANNOTATION scores and delete the ones taken back (blocking: run in a
    thread). `source=ANNOTATION` needs a score config, a BOOLEAN one named like the metric."""
    trace_id = run.trace_id
    if not trace_id:
        return
    labels = feedback.labels or {}
    requests = [
        CreateScoreRequest(
            id=label_score_id(trace_id, metric, feedback.user_id),
            trace_id=trace_id,
            name=metric,
            value=1 if label == "pass" else 0,
            data_type="BOOLEAN",
            config_id=_config_id(client, metric),
            source="ANNOTATION",
            comment=feedback.comment,
            metadata={
                "producer": LABEL_PRODUCER,
                "user_id": str(feedback.user_id),
                "run_id": str(run.id),
            },
            # Langfuse overwrites a score with the same id *and date*: keep the first date.
            timestamp=feedback.created_at,
        )
        for metric, label in sorted(labels.items())
    ]
    if requests:
        client.api.scores.create(request=requests)
    for metric in removed:
        client.api.scores.delete(label_score_id(trace_id, metric, feedback.user_id))


async def sync_label_scores(
    client: Any, run: AgentRun, feedback: AgentFeedback, removed: list[str]
) -> None:
    """`send_label_scores` off the event loop; failures are logged, never raised."""
    try:
        await asyncio.to_thread(send_label_scores, client, run, feedback, removed)
    except Exception:
        logger.warning("feedback.langfuse_labels_failed", run_id=str(run.id), exc_info=True)
