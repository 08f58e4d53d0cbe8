"""Thread data access: `AgentThread` rows, their run counts, status and deletion."""

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import cast, delete, literal, or_, true, union, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.crud.errors import from_integrity_error
from app.crud.pages import Count, Cursor, bounded_count
from app.models import AgentRun, AgentThread, ThreadStatus, utcnow


def add_thread(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    title: str,
    metadata: dict[str, Any],
    thread_id: uuid.UUID | None = None,
) -> AgentThread:
    """Stage a new, busy thread in the session (the caller commits with the run that starts it)."""
    thread = AgentThread(
        id=thread_id or uuid.uuid4(),
        user_id=user_id,
        title=title,
        thread_metadata=metadata,
        status=ThreadStatus.busy,
    )
    session.add(thread)
    return thread


async def get_thread(*, session: AsyncSession, thread_id: uuid.UUID) -> AgentThread | None:
    """The thread, whoever owns it."""
    return await session.get(AgentThread, thread_id)


async def set_status(*, session: AsyncSession, thread_id: uuid.UUID, status: str) -> None:
    """Record where the thread stands and that it was active now (the caller commits)."""
    await session.exec(
        update(AgentThread)
        .where(col(AgentThread.id) == thread_id)
        .values(status=status, updated_at=utcnow())
    )


def _title_contains(title: Any, query: str) -> Any:
    """Condition: the title contains `query` (case-insensitive, `%` and `_` taken literally)."""
    return col(title).icontains(query, autoescape=True)


def _run_contains(query: str) -> Any:
    """Condition: a run's message or answer contains `query` (as `_title_contains`)."""
    return or_(
        col(AgentRun.input).icontains(query, autoescape=True),
        col(AgentRun.response).icontains(query, autoescape=True),
    )


def _run_count(thread_id: Any) -> Any:
    """The number of runs of the thread `thread_id` refers to (a correlated subquery)."""
    return select(func.count()).where(col(AgentRun.thread_id) == thread_id).scalar_subquery()


def _matching(query: str, user_id: uuid.UUID, dialect: str) -> Any:
    """Condition: the thread's title, or a message or answer of one of its runs, contains
    `query`."""
    title = _title_contains(AgentThread.title, query)
    in_run = _run_contains(query)
    if dialect == "postgresql":
        # The matching ids first, each part from its trigram index (migration 0017): a rare
        # term costs a few index pages instead of a pass over every run of the user.
        return col(AgentThread.id).in_(
            union(
                select(AgentThread.id).where(col(AgentThread.user_id) == user_id, title),
                select(AgentRun.thread_id).where(col(AgentRun.user_id) == user_id, in_run),
            )
        )
    in_runs = (
        select(AgentRun.id)
        .where(col(AgentRun.thread_id) == AgentThread.id, in_run)
        .correlate(AgentThread)
        .exists()
    )
    return or_(title, in_runs)


# How many of the newest threads a search for a common term looks through first (see
# list_threads_for). ~20 µs each at 10 runs per thread on the benchmark's machine.
SEARCH_WINDOW = 1000


async def list_threads_for(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    skip: int,
    limit: int,
    after: Cursor | None = None,
    query: str | None = None,
) -> tuple[list[tuple[AgentThread, int]], Count]:
    """The user's threads with their run counts, most recently active first: after a cursor,
    or at an offset (slow for deep pages); with `query`, only those whose title or messages
    contain it."""
    dialect = session.get_bind().dialect.name
    owned = [col(AgentThread.user_id) == user_id]
    if query:
        owned.append(_matching(query, user_id, dialect))
    # Counting a common term's matches would read all of them: the planner is asked first.
    count = await bounded_count(
        session, select(AgentThread.id).where(*owned), estimate_first=bool(query)
    )
    newer = (
        [] if after is None else [after.before(col(AgentThread.updated_at), col(AgentThread.id))]
    )
    if query and count.estimated and dialect == "postgresql" and skip + limit <= SEARCH_WINDOW:
        # A common term: the newest threads, each checked with its runs' index, fill the page
        # in a few hundred µs, where collecting every match from the trigram indexes takes
        # ~0.4 s at 100,000 matching runs. If they don't, the term is rarer than estimated.
        page = await _newest_matching(session, user_id, query, newer, skip, limit)
        if len(page) == limit:
            return page, count
    rows = await session.exec(
        select(AgentThread, _run_count(AgentThread.id))
        .where(*owned, *newer)
        .order_by(col(AgentThread.updated_at).desc(), col(AgentThread.id).desc())
        .offset(skip)
        .limit(limit)
    )
    return [(thread, int(run_count)) for thread, run_count in rows.all()], count


async def _newest_matching(
    session: AsyncSession,
    user_id: uuid.UUID,
    query: str,
    newer: list[Any],
    skip: int,
    limit: int,
) -> list[tuple[AgentThread, int]]:
    """The page of matches among the user's SEARCH_WINDOW newest threads (after the cursor)."""
    window = (
        select(AgentThread)
        .where(col(AgentThread.user_id) == user_id, *newer)
        .order_by(col(AgentThread.updated_at).desc(), col(AgentThread.id).desc())
        .limit(SEARCH_WINDOW)
        .subquery()
    )
    thread = aliased(AgentThread, window)
    # LATERAL … LIMIT 1 keeps the check per thread: PostgreSQL turns an EXISTS under OR into
    # a hashed subplan that collects every matching run first.
    hit = (
        select(literal(1).label("hit"))
        .where(col(AgentRun.thread_id) == thread.id, _run_contains(query))
        .limit(1)
        .lateral()
    )
    rows = await session.exec(
        select(thread, _run_count(thread.id))
        .outerjoin(hit, true())
        .where(or_(_title_contains(thread.title, query), hit.c.hit.is_not(None)))
        .order_by(col(thread.updated_at).desc(), col(thread.id).desc())
        .offset(skip)
        .limit(limit)
    )
    return [(row, int(run_count)) for row, run_count in rows.all()]


async def thread_ids_of(*, session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    """Every thread id the user owns."""
    rows = await session.exec(select(AgentThread.id).where(col(AgentThread.user_id) == user_id))
    return list(rows.all())


async def delete_thread(*, session: AsyncSession, thread_id: uuid.UUID) -> None:
    """Delete the thread row and flag its runs, which stay in the history."""
    await session.exec(delete(AgentThread).where(col(AgentThread.id) == thread_id))
    await session.exec(
        update(AgentRun).where(col(AgentRun.thread_id) == thread_id).values(thread_deleted=True)
    )
    await session.commit()


async def idle_thread_ids(
    *, session: AsyncSession, idle_before: datetime, limit: int, after: uuid.UUID | None = None
) -> list[uuid.UUID]:
    """Up to `limit` ids (after `after`, in id order) of threads not active since
    `idle_before` and not running now."""
    query = select(AgentThread.id).where(
        col(AgentThread.updated_at) < idle_before, col(AgentThread.status) != ThreadStatus.busy
    )
    if after is not None:
        query = query.where(col(AgentThread.id) > after)
    rows = await session.exec(query.order_by(col(AgentThread.id)).limit(limit))
    return list(rows.all())


async def delete_idle_thread(
    *, session: AsyncSession, thread_id: uuid.UUID, idle_before: datetime
) -> bool:
    """Delete the thread if it is still idle (a run may have started meanwhile) and flag its
    runs; commit. True when it was deleted."""
    result = await session.exec(
        delete(AgentThread).where(
            col(AgentThread.id) == thread_id,
            col(AgentThread.updated_at) < idle_before,
            col(AgentThread.status) != ThreadStatus.busy,
        )
    )
    if not result.rowcount:
        await session.rollback()
        return False
    await session.exec(
        update(AgentRun).where(col(AgentRun.thread_id) == thread_id).values(thread_deleted=True)
    )
    await session.commit()
    return True


def _metadata_matches(dialect: str, metadata: dict[str, Any]) -> list[Any]:
    """Conditions: the thread's metadata holds every key/value of `metadata`."""
    column = col(AgentThread.thread_metadata)
    if dialect == "postgresql":
        return [cast(column, JSONB).contains(metadata)]
    conditions: list[Any] = []
    for key, value in metadata.items():
        path = '$."' + key.replace('"', '""') + '"'
        found = func.json_extract(column, path)
        if isinstance(value, dict | list):
            conditions.append(func.json(found) == json.dumps(value, separators=(",", ":")))
        elif value is None:
            conditions.append(func.json_type(column, path) == "null")
        else:
            conditions.append(found == value)
    return conditions


async def search_threads(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    metadata: dict[str, Any] | None,
    ids: list[uuid.UUID] | None,
    status: str | None,
    limit: int,
    offset: int,
    sort_by: str,
    descending: bool,
) -> list[AgentThread]:
    """The user's threads matching every filter given, in the order asked for."""
    query = select(AgentThread).where(col(AgentThread.user_id) == user_id)
    if metadata:
        query = query.where(*_metadata_matches(session.get_bind().dialect.name, metadata))
    if ids is not None:
        query = query.where(col(AgentThread.id).in_(ids))
    if status is not None:
        query = query.where(col(AgentThread.status) == status)
    column = {
        "thread_id": col(AgentThread.id),
        "status": col(AgentThread.status),
        "created_at": col(AgentThread.created_at),
        "updated_at": col(AgentThread.updated_at),
    }[sort_by]
    order = column.desc() if descending else column.asc()
    rows = await session.exec(
        query.order_by(order, col(AgentThread.id)).offset(offset).limit(limit)
    )
    return list(rows.all())


async def create_thread(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    thread_id: uuid.UUID | None,
    metadata: dict[str, Any],
) -> AgentThread:
    """Insert an empty, idle thread and commit (a StoreError when the database refuses it)."""
    thread = AgentThread(id=thread_id or uuid.uuid4(), user_id=user_id, thread_metadata=metadata)
    session.add(thread)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise from_integrity_error(exc) from None
    await session.refresh(thread)
    return thread


async def update_metadata(
    *, session: AsyncSession, thread: AgentThread, metadata: dict[str, Any]
) -> AgentThread:
    """Merge `metadata` into the thread's and commit."""
    thread.thread_metadata = {**thread.thread_metadata, **metadata}
    thread.updated_at = utcnow()
    session.add(thread)
    await session.commit()
    await session.refresh(thread)
    return thread


async def rename_thread(*, session: AsyncSession, thread: AgentThread, title: str) -> AgentThread:
    """Set the thread's title and commit (its last activity stays as it was)."""
    thread.title = title
    session.add(thread)
    await session.commit()
    await session.refresh(thread)
    return thread


async def replace_title(
    *, session: AsyncSession, thread_id: uuid.UUID, expected: str, title: str
) -> bool:
    """Set the title only if it is still `expected` (not renamed meanwhile); commit."""
    result = await session.exec(
        update(AgentThread)
        .where(col(AgentThread.id) == thread_id, col(AgentThread.title) == expected)
        .values(title=title)
    )
    await session.commit()
    return bool(result.rowcount)
