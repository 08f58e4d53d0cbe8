"""History pages that stay fast at millions of rows: keyset cursors and bounded counts.

A cursor is the (timestamp, id) of the last row of a page, so the next page is an index range
scan that starts there, however deep it is; `OFFSET` has to walk past every skipped row. A
count stops at `EXACT_COUNT_LIMIT` rows; past that, PostgreSQL's planner estimate is reported
and flagged as an estimate (SQLite, the embedded database, is counted exactly).
"""

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, text, tuple_
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

EXACT_COUNT_LIMIT = 1000


class InvalidCursorError(ValueError):
    """A cursor that no page of this list handed out."""


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the sort timestamp and id of its last row."""

    at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        """The opaque form handed to clients."""
        raw = json.dumps([self.at.isoformat(), str(self.id)], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> "Cursor":
        """Parse a client's cursor (InvalidCursorError when it isn't one)."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            at, row_id = json.loads(raw)
            parsed = cls(datetime.fromisoformat(at), uuid.UUID(row_id))
        except (binascii.Error, ValueError, TypeError) as exc:
            raise InvalidCursorError("Invalid cursor") from exc
        if parsed.at.tzinfo is None:
            raise InvalidCursorError("Invalid cursor")
        return parsed

    def before(self, at: Any, row_id: Any) -> ColumnElement[bool]:
        """Rows after this cursor in newest-first order (a row-value comparison, which an
        index on (…, at, id) serves as a range)."""
        return tuple_(at, row_id) < tuple_(self.at, self.id)


@dataclass(frozen=True)
class Count:
    """How many rows a list has, exactly or (past EXACT_COUNT_LIMIT) as estimated."""

    value: int
    estimated: bool


async def bounded_count(
    session: AsyncSession, query: Any, *, estimate_first: bool = False
) -> Count:
    """Count `query`'s rows, reading at most EXACT_COUNT_LIMIT + 1 of them.

    `estimate_first`: for a query whose matches are costly to even find (a text search), ask the
    planner first and take its estimate when it is past the limit, reading nothing.
    """
    if session.get_bind().dialect.name != "postgresql":
        return Count(
            (await session.exec(select(func.count()).select_from(query.subquery()))).one(), False
        )
    estimate = await _planner_rows(session, query) if estimate_first else None
    if estimate is not None and estimate > EXACT_COUNT_LIMIT:
        return Count(estimate, True)
    capped = query.limit(EXACT_COUNT_LIMIT + 1).subquery()
    exact = (await session.exec(select(func.count()).select_from(capped))).one()
    if exact <= EXACT_COUNT_LIMIT:
        return Count(exact, False)
    if estimate is None:
        estimate = await _planner_rows(session, query)
    return Count(max(estimate, exact), True)


async def _planner_rows(session: AsyncSession, query: Any) -> int:
    """The planner's row estimate for `query` (planning only, nothing is read)."""
    compiled = query.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    result = await session.exec(text(f"EXPLAIN (FORMAT JSON) {compiled}"))  # type: ignore[call-overload]
    plan = result.scalar_one()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])
