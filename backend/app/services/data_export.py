"""A user's data as a zip of JSON files (`GET /users/me/export`).

Rows are read a page at a time and written into a temporary file (spilled to disk past
SPOOL_BYTES) by a worker thread, so neither memory nor the event loop carries the whole export;
the route then streams the file. Files: `manifest.json`, `profile.json`, `items.json`,
`threads/<thread_id>.json` (with the messages and the summary of older turns the agent keeps), `runs.json`, `evaluations.json`,
`feedback.json`, `approvals.json`, `api_keys.json` (never the key hashes).
"""

import asyncio
import json
import tempfile
import zipfile
from collections.abc import AsyncIterator, Iterable
from typing import IO, Any

from pydantic_core import to_jsonable_python
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from app.agents.service import AgentService
from app.crud import agent_run as crud_run
from app.crud import export as crud_export
from app.models import User, UserPublic, utcnow
from app.services.runs.threads import merge_turns

EXPORT_FORMAT = 1
PAGE_SIZE = 200
SPOOL_BYTES = 4 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
# Internal bookkeeping that says nothing about the user: left out.
EXCLUDED: dict[str, set[str]] = {
    "runs": {"worker_id", "lease_expires_at", "queued_at"},
    "api_keys": {"key_hash"},
}


def _dumps(value: Any) -> bytes:
    return json.dumps(to_jsonable_python(value), ensure_ascii=False, indent=1).encode()


def _row(kind: str, row: SQLModel) -> dict[str, Any]:
    return row.model_dump(mode="json", exclude=EXCLUDED.get(kind, set()))


class ZipBuilder:
    """A zip in a spooled temporary file; every blocking step runs in a worker thread."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
        self.zip = zipfile.ZipFile(self.file, "w", compression=zipfile.ZIP_DEFLATED)

    async def write(self, name: str, value: Any) -> None:
        """One JSON file."""
        data = _dumps(value)
        await asyncio.to_thread(self.zip.writestr, name, data)

    async def write_array(self, name: str, pages: AsyncIterator[Iterable[Any]]) -> int:
        """One JSON array, written a page at a time; the number of elements."""
        handle = await asyncio.to_thread(self.zip.open, name, "w", force_zip64=True)
        count = 0
        try:
            await asyncio.to_thread(handle.write, b"[")
            async for page in pages:
                parts = [_dumps(item) for item in page]
                if parts:
                    prefix = b"," if count else b""
                    await asyncio.to_thread(handle.write, prefix + b",".join(parts))
                    count += len(parts)
            await asyncio.to_thread(handle.write, b"]")
        finally:
            await asyncio.to_thread(handle.close)
        return count

    async def finish(self) -> IO[bytes]:
        """Close the archive; the file, rewound."""
        await asyncio.to_thread(self.zip.close)
        await asyncio.to_thread(self.file.seek, 0)
        return self.file


async def _rows(
    session: AsyncSession, kind: str, user: User
) -> AsyncIterator[list[dict[str, Any]]]:
    async for page in crud_export.owned_pages(
        session=session, kind=kind, user_id=user.id, page_size=PAGE_SIZE
    ):
        yield [_row(kind, row) for row in page]


async def _evaluations(session: AsyncSession, user: User) -> AsyncIterator[list[dict[str, Any]]]:
    async for page in crud_export.evaluation_pages(
        session=session, user_id=user.id, page_size=PAGE_SIZE
    ):
        yield [_row("evaluations", row) for row in page]


async def _thread(session: AsyncSession, agent: AgentService, thread: Any) -> dict[str, Any]:
    """A thread with its messages and the summary the agent keeps of its older turns."""
    snapshot = await agent.state(thread.id)
    values = snapshot.values if snapshot is not None else {}
    runs = await crud_run.runs_of_thread(session=session, thread_id=thread.id)
    return {
        **_row("threads", thread),
        "messages": merge_turns(list(values.get("messages", [])), runs),
        "context_summary": values.get("context_summary"),
    }


async def build_export(session: AsyncSession, agent: AgentService, user: User) -> IO[bytes]:
    """The user's export as a rewound zip file (the caller closes it)."""
    builder = ZipBuilder()
    try:
        counts: dict[str, int] = {}
        await builder.write("profile.json", UserPublic.model_validate(user).model_dump(mode="json"))
        for kind in ("items", "runs", "feedback", "approvals", "api_keys"):
            counts[kind] = await builder.write_array(f"{kind}.json", _rows(session, kind, user))
        counts["evaluations"] = await builder.write_array(
            "evaluations.json", _evaluations(session, user)
        )
        counts["threads"] = 0
        async for page in crud_export.owned_pages(
            session=session, kind="threads", user_id=user.id, page_size=PAGE_SIZE
        ):
            for thread in page:
                await builder.write(
                    f"threads/{thread.id}.json", await _thread(session, agent, thread)
                )
                counts["threads"] += 1
        manifest = {
            "format": EXPORT_FORMAT,
            "exported_at": utcnow(),
            "user_id": user.id,
            "counts": counts,
        }
        await builder.write("manifest.json", manifest)
        return await builder.finish()
    except BaseException:
        await asyncio.to_thread(builder.file.close)
        raise


async def stream_file(file: IO[bytes]) -> AsyncIterator[bytes]:
    """The file's bytes, read in a worker thread; closes it at the end."""
    try:
        while chunk := await asyncio.to_thread(file.read, CHUNK_BYTES):
            yield chunk
    finally:
        await asyncio.to_thread(file.close)
