"""Where traces come from (Langfuse's v2 observations API or our `agent_run` table) and which
(trace, metric) pairs this judge already scored with the metric's current prompt version."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.crud import agent_run as crud_run
from app.crud import evaluation as crud_evaluation
from app.crud import user as crud_user
from app.evaluation.outputs import PRODUCER
from app.evaluation.schemas import (
    EvaluationOptions,
    MetricDefinition,
    ToolCallRecord,
    TraceRecord,
)
from app.evaluation.text import trace_io, trace_parts
from app.models import AgentRun

PAGE_SIZE = 100
SCORE_QUERY_CHUNK = 50  # trace ids per v3 scores request: keeps URLs well under 4 KB
TRACE_FIELDS = "core,basic,io,trace_context"
DB_TRACE_PREFIX = "run:"  # pseudo trace id for runs recorded without a Langfuse trace

# (trace id, metric) -> the score this judge gave with the metric's current prompt version
ExistingScores = dict[tuple[str, str], float]


class TraceSource(Protocol):
    """Pages of traces to grade, newest window first page by page."""

    name: str

    def pages(self) -> AsyncIterator[list[TraceRecord]]:
        """Yield pages until the window is exhausted (or `limit` is reached)."""
        ...


def time_window(
    options: EvaluationOptions, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """(since, until) in UTC: explicit bounds, else the last `hours` hours."""
    until = options.until or now or datetime.now(UTC)
    since = options.since or until - timedelta(hours=options.hours)
    as_utc = [t if t.tzinfo else t.replace(tzinfo=UTC) for t in (since, until)]
    return as_utc[0], as_utc[1]


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class LangfuseSource:
    """Root observations (one per trace) from GET /api/public/v2/observations, every page."""

    name = "langfuse"

    def __init__(self, client: Any, options: EvaluationOptions, page_size: int = PAGE_SIZE) -> None:
        self._client = client
        self._options = options
        self._page_size = page_size

    def _filter(self, since: datetime, until: datetime) -> str | None:
        """The `filter` JSON, needed for tags and the trace name (the `name` query parameter
        matches the observation's name, which LangChain sets to the graph's, not the trace's)."""
        opts = self._options
        if not opts.tags and not opts.name:
            return None
        conditions: list[dict[str, Any]] = [
            {"type": "boolean", "column": "isRootObservation", "operator": "=", "value": True},
            {
                "type": "datetime",
                "column": "startTime",
                "operator": ">=",
                "value": since.isoformat(),
            },
            {
                "type": "datetime",
                "column": "startTime",
                "operator": "<",
                "value": until.isoformat(),
            },
        ]
        if opts.tags:
            conditions.append(
                {
                    "type": "arrayOptions",
                    "column": "traceTags",
                    "operator": "all of",
                    "value": opts.tags,
                }
            )
        if opts.name:
            conditions.append(
                {"type": "string", "column": "traceName", "operator": "=", "value": opts.name}
            )
        if opts.user:
            conditions.append(
                {"type": "string", "column": "userId", "operator": "=", "value": opts.user}
            )
        return json.dumps(conditions)

    async def pages(self) -> AsyncIterator[list[TraceRecord]]:
        """Follow the cursor until the server stops returning one; no cap besides `limit`."""
        since, until = time_window(self._options)
        limit, seen, cursor = self._options.limit, set[str](), None
        filter_json = self._filter(since, until)
        while True:
            params: dict[str, Any] = {
                "fields": TRACE_FIELDS,
                "limit": self._page_size,
                "cursor": cursor,
            }
            if filter_json:
                params["filter"] = filter_json
            else:
                params |= {
                    "is_root_observation": True,
                    "from_start_time": since,
                    "to_start_time": until,
                    "user_id": self._options.user,
                }
            # The SDK's sync client in a thread: its async client's connections are tied to the
            # loop that opened them, and the CLI, the API and tests run different loops.
            response = await asyncio.to_thread(self._client.api.observations.get_many, **params)
            page: list[TraceRecord] = []
            for observation in response.data:
                if observation.trace_id in seen:
                    continue  # a trace can have several logical roots
                seen.add(observation.trace_id)
                page.append(self._record(observation))
                if limit is not None and len(seen) >= limit:
                    break
            if page:
                yield page
            cursor = getattr(response.meta, "cursor", None)
            if not cursor or (limit is not None and len(seen) >= limit):
                return

    @staticmethod
    def _record(observation: Any) -> TraceRecord:
        text_in, text_out = trace_io(observation.input, observation.output)
        request, conversation, tool_calls = trace_parts(observation.input, observation.output)
        return TraceRecord(
            request=request,
            conversation=conversation,
            tool_calls=tool_calls,
            trace_id=observation.trace_id,
            input=text_in,
            output=text_out,
            name=observation.trace_name or observation.name,
            user_id=observation.user_id,
            session_id=observation.session_id,
            tags=list(observation.tags or []),
            timestamp=observation.start_time,
        )


def _score_trace_id(score: Any) -> str | None:
    subject: Any = getattr(score, "subject", None)
    if getattr(subject, "trace_id", None):
        return str(subject.trace_id)
    return str(subject.id) if getattr(subject, "kind", None) == "trace" else None


def is_our_score(score: Any, metric: MetricDefinition | None, judge_model: str) -> bool:
    """A score this evaluator wrote for this judge model and the metric's prompt version (a
    human annotation or another tool's score with the metric's name never is)."""
    meta = getattr(score, "metadata", None)
    if metric is None or not isinstance(meta, dict):
        return False
    return (
        str(getattr(score, "source", "")).upper().endswith("API")
        and meta.get("producer") == PRODUCER
        and meta.get("judge_model") == judge_model
        and str(meta.get("prompt_version")) == metric.version
    )


async def _scores(
    client: Any, trace_ids: Sequence[str], **filters: Any
) -> AsyncIterator[tuple[str, Any]]:
    """(trace id, score) for every v3 score on these traces matching `filters`, all pages."""
    for chunk in _chunks(list(trace_ids), SCORE_QUERY_CHUNK):
        cursor = None
        while True:
            response = await asyncio.to_thread(
                client.api.scores.get_many,
                trace_id=",".join(chunk),
                limit=100,
                cursor=cursor,
                **filters,
            )
            for score in response.data:
                trace_id = _score_trace_id(score)
                if trace_id:
                    yield trace_id, score
            cursor = getattr(response.meta, "cursor", None)
            if not cursor:
                break


async def langfuse_existing_scores(
    client: Any, trace_ids: Sequence[str], metrics: Sequence[MetricDefinition], judge_model: str
) -> ExistingScores:
    """This judge's scores (current prompt versions) on these traces (GET /api/public/v3/scores)."""
    by_name = {metric.name: metric for metric in metrics}
    found: ExistingScores = {}
    filters = {"name": ",".join(by_name), "source": "API", "fields": "subject,details"}
    async for trace_id, score in _scores(client, trace_ids, **filters):
        value = getattr(score, "value", None)
        metric = by_name.get(score.name)
        if isinstance(value, int | float) and is_our_score(score, metric, judge_model):
            found[(trace_id, score.name)] = float(value)
    return found


async def langfuse_human_labels(
    client: Any, trace_ids: Sequence[str], metric: MetricDefinition
) -> dict[str, bool]:
    """Human pass/fail for a metric from Langfuse annotation scores with its name (feedback
    labels arrive this way too): a NUMERIC value is read on the metric's scale and threshold,
    a BOOLEAN true (1) is a pass."""
    labels: dict[str, bool] = {}
    filters = {"name": metric.name, "source": "ANNOTATION", "fields": "subject"}
    async for trace_id, score in _scores(client, trace_ids, **filters):
        value = getattr(score, "value", None)
        boolean = str(getattr(score, "data_type", "")).upper().endswith("BOOLEAN")
        if isinstance(value, bool):
            labels[trace_id] = value
        elif isinstance(value, int | float):
            # A BOOLEAN annotation (1 = pass, as feedback labels are sent) is a verdict, not a
            # score on the metric's scale; a NUMERIC one is read against the threshold.
            labels[trace_id] = value >= 0.5 if boolean else metric.passed(float(value))
    return labels


class DbSource:
    """Finished `AgentRun` rows in the window, newest first, from our own database."""

    name = "db"

    def __init__(
        self,
        options: EvaluationOptions,
        session_maker: async_sessionmaker[AsyncSession],
        page_size: int = PAGE_SIZE,
    ) -> None:
        self._options = options
        self._sessions = session_maker
        self._page_size = page_size

    async def _user_id(self, session: AsyncSession) -> uuid.UUID | None:
        """`--user` as a user id or an email address."""
        value = self._options.user
        if not value:
            return None
        try:
            return uuid.UUID(value)
        except ValueError:
            user = await crud_user.get_user_by_email(session=session, email=value)
            return user.id if user else uuid.UUID(int=0)  # unknown email: match nothing

    async def pages(self) -> AsyncIterator[list[TraceRecord]]:
        """Keyset pages over (created_at, id) so rows inserted meanwhile never shift a page."""
        since, until = time_window(self._options)
        limit, count = self._options.limit, 0
        after: tuple[datetime, uuid.UUID] | None = None
        while True:
            async with self._sessions() as session:
                runs = await crud_run.successful_runs_page(
                    session=session,
                    since=since,
                    until=until,
                    user_id=await self._user_id(session),
                    after=after,
                    limit=self._page_size,
                )
            if limit is not None:
                runs = runs[: max(0, limit - count)]
            if not runs:
                return
            count += len(runs)
            yield [run_to_record(run) for run in runs]
            after = (runs[-1].created_at, runs[-1].id)
            if len(runs) < self._page_size or (limit is not None and count >= limit):
                return


def run_to_record(run: AgentRun) -> TraceRecord:
    """A run as a trace; tool results are part of the input so the judge can check grounding."""
    text_in = run.input
    if run.tool_calls:
        lines = [
            f"tool {call.get('name', '?')}({json.dumps(call.get('args', {}), default=str)}): "
            f"{call.get('output', '')}"
            for call in run.tool_calls
        ]
        text_in = f"user: {run.input}\n" + "\n".join(lines)
    return TraceRecord(
        request=run.input,
        tool_calls=[
            ToolCallRecord(
                name=str(call.get("name", "?")),
                args=json.dumps(call.get("args", {}), default=str, ensure_ascii=False),
                output=str(call.get("output", "")),
            )
            for call in run.tool_calls or []
        ],
        trace_id=run.trace_id or f"{DB_TRACE_PREFIX}{run.id}",
        input=text_in,
        output=run.response or "",
        name="agent_run",
        user_id=str(run.user_id),
        session_id=str(run.thread_id),
        timestamp=run.created_at,
        run_id=run.id,
        has_langfuse_trace=run.trace_id is not None,
    )


async def runs_by_trace_id(session: AsyncSession, trace_ids: Iterable[str]) -> dict[str, uuid.UUID]:
    """Map trace ids to our run ids (pseudo ids `run:<uuid>` map to themselves)."""
    mapping: dict[str, uuid.UUID] = {}
    real = []
    for trace_id in trace_ids:
        if trace_id.startswith(DB_TRACE_PREFIX):
            mapping[trace_id] = uuid.UUID(trace_id.removeprefix(DB_TRACE_PREFIX))
        else:
            real.append(trace_id)
    if real:
        mapping |= await crud_run.run_ids_by_trace_id(session=session, trace_ids=real)
    return mapping


async def db_existing_scores(
    session: AsyncSession,
    run_ids: dict[str, uuid.UUID],
    metrics: Sequence[MetricDefinition],
    judge_model: str,
) -> ExistingScores:
    """This judge's `AgentEvaluation` scores (current prompt versions) on these runs."""
    trace_of = {run_id: trace_id for trace_id, run_id in run_ids.items()}
    rows = await crud_evaluation.judge_scores(
        session=session,
        run_ids=list(trace_of),
        versions={metric.name: metric.version for metric in metrics},
        judge_model=judge_model,
    )
    return {(trace_of[run_id], metric): score for run_id, metric, score in rows}
