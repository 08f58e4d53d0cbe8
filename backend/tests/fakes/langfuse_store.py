"""Thread-safe in-memory state of the fake Langfuse (written by the server, read by tests)."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from tests.fakes.langfuse_datasets import DatasetState
from tests.fakes.langfuse_model import (
    Observation,
    Score,
    Trace,
    build_trace,
    observation_from_span,
)
from tests.fakes.langfuse_scores import score_from_request
from tests.fakes.otlp import SpanRecord


class LangfuseStore:
    """Spans as received, observations derived from them, and scores by id."""

    def __init__(self, project_id: str = "fake-project") -> None:
        self._lock = threading.Lock()
        self.datasets = DatasetState(project_id)
        self.spans: list[SpanRecord] = []
        self._observations: dict[tuple[str, str], Observation] = {}
        self._scores: dict[str, Score] = {}
        self.score_bodies: list[dict[str, Any]] = []
        self.deleted_trace_ids: list[str] = []

    def reset(self) -> None:
        """Forget everything."""
        with self._lock:
            self.spans.clear()
            self._observations.clear()
            self._scores.clear()
            self.score_bodies.clear()
            self.deleted_trace_ids.clear()
        self.datasets.reset()

    def add_spans(self, spans: list[SpanRecord]) -> None:
        """Store spans; a span sent again (same trace and span id) replaces the earlier one."""
        with self._lock:
            for span in spans:
                self.spans.append(span)
                obs = observation_from_span(span)
                self._observations[(obs.trace_id, obs.id)] = obs

    def upsert_score(self, body: Any) -> Score:
        """Validate and store one score; the same id overwrites (raises ScoreError on bad input)."""
        with self._lock:
            score_id = body.get("id") if isinstance(body, dict) else None
            existing = self._scores.get(score_id) if isinstance(score_id, str) else None
            score = score_from_request(body, existing)
            self._scores[score.id] = score
            self.score_bodies.append(body)
            return score

    def delete_traces(self, trace_ids: list[str]) -> int:
        """Forget the traces: their spans, observations and scores; how many existed."""
        doomed = set(trace_ids)
        with self._lock:
            existed = {obs.trace_id for obs in self._observations.values()} & doomed
            self.spans = [span for span in self.spans if span.trace_id not in doomed]
            self._observations = {
                key: obs for key, obs in self._observations.items() if obs.trace_id not in doomed
            }
            self._scores = {k: v for k, v in self._scores.items() if v.trace_id not in doomed}
            self.deleted_trace_ids.extend(trace_ids)
        return len(existed)

    def delete_score(self, score_id: str) -> bool:
        """Remove a score; False when there is none with that id."""
        with self._lock:
            return self._scores.pop(score_id, None) is not None

    def observations(self) -> list[Observation]:
        """All observations, newest start time first."""
        with self._lock:
            items = list(self._observations.values())
        return sorted(items, key=lambda obs: (obs.start_time, obs.id), reverse=True)

    def traces(self) -> dict[str, Trace]:
        """Every trace by id, derived from its observations."""
        grouped: dict[str, list[Observation]] = defaultdict(list)
        for obs in self.observations():
            grouped[obs.trace_id].append(obs)
        return {trace_id: build_trace(trace_id, items) for trace_id, items in grouped.items()}

    def trace(self, trace_id: str) -> Trace | None:
        """One trace, or None."""
        items = [obs for obs in self.observations() if obs.trace_id == trace_id]
        return build_trace(trace_id, items) if items else None

    def scores(self) -> list[Score]:
        """All scores, newest timestamp first."""
        with self._lock:
            items = list(self._scores.values())
        return sorted(items, key=lambda score: (score.timestamp, score.id), reverse=True)
