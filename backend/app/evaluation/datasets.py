"""Evaluation datasets: Langfuse datasets when Langfuse is configured, our own tables otherwise.

Both stores hold items (input, optional expected output, metadata) and, per experiment run,
which run (trace) answered which item. Item ids are derived from the dataset and the content,
so adding the same file twice adds nothing.
"""

import asyncio
import json
import uuid
from collections.abc import Sequence
from typing import Any, Literal, Protocol
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import settings
from app.core.telemetry import langfuse_base_url
from app.crud import dataset as crud_dataset
from app.evaluation.errors import EvaluationError, EvaluationUsageError
from app.models import EvalDatasetItem

StoreKind = Literal["auto", "langfuse", "db"]
ITEM_NAMESPACE = uuid.UUID("0b7f3a9e-5a51-4c1e-8f0e-2d6f1b9c4e77")
PAGE = 100


class DatasetNotFoundError(EvaluationUsageError):
    """No dataset (or experiment run) with that name: a usage error, not a connection one."""


class DatasetItemIn(BaseModel):
    """One item to add: the agent's input, optionally the expected output, and metadata."""

    input: str = Field(min_length=1, max_length=100_000)
    expected_output: str | None = Field(default=None, max_length=100_000)
    metadata: dict[str, Any] = Field(default_factory=dict)
    id: str | None = Field(default=None, max_length=255)

    def item_id(self, dataset: str) -> str:
        """The given id, else one derived from the dataset and the content (idempotent adds)."""
        if self.id:
            return self.id
        key = json.dumps([dataset, self.input, self.expected_output], ensure_ascii=False)
        return str(uuid.uuid5(ITEM_NAMESPACE, key))


class DatasetItemRecord(BaseModel):
    """An item as stored."""

    id: str
    input: str
    expected_output: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class DatasetInfo(BaseModel):
    """A dataset and how many items it holds."""

    name: str
    description: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    items: int


class RunItemRecord(BaseModel):
    """Which trace (and, locally, which run) answered an item in an experiment run."""

    item_id: str
    trace_id: str | None = None
    run_id: uuid.UUID | None = None


class ExperimentRunRecord(BaseModel):
    """An experiment run: its metadata (judge, prompt versions) and its items."""

    name: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    items: list[RunItemRecord]


def as_text(value: Any) -> str | None:
    """An item field as text: strings as they are, `{"message"|"input"|"question": str}` by that
    key (datasets made in the Langfuse UI hold JSON), anything else as JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("message", "input", "question", "content"):
            if isinstance(value.get(key), str):
                return str(value[key])
    return json.dumps(value, ensure_ascii=False, default=str)


class DatasetStore(Protocol):
    """Where datasets and experiment runs live."""

    kind: str

    async def create(
        self, name: str, description: str | None, metadata: dict[str, Any]
    ) -> DatasetInfo:
        """Create the dataset (or update its description and metadata)."""
        ...

    async def add(self, name: str, items: Sequence[DatasetItemIn]) -> int:
        """Upsert items; returns how many were sent."""
        ...

    async def datasets(self) -> list[DatasetInfo]:
        """Every dataset."""
        ...

    async def items(self, name: str) -> list[DatasetItemRecord]:
        """A dataset's active items (`DatasetNotFoundError` when there is no such dataset)."""
        ...

    async def start_run(self, name: str, run_name: str, metadata: dict[str, Any]) -> None:
        """Record the experiment run and its metadata before items are linked."""
        ...

    async def link(
        self, name: str, run_name: str, item_id: str, trace_id: str | None, run_id: uuid.UUID
    ) -> None:
        """Link the run (trace) that answered an item to the experiment run."""
        ...

    async def run(self, name: str, run_name: str) -> ExperimentRunRecord:
        """An experiment run with its items (`DatasetNotFoundError` when unknown)."""
        ...

    async def aclose(self) -> None:
        """Release clients."""
        ...


class DbDatasetStore:
    """Datasets in our tables (`eval_dataset`, `eval_dataset_item`, `eval_experiment_*`)."""

    kind = "db"

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def create(
        self, name: str, description: str | None, metadata: dict[str, Any]
    ) -> DatasetInfo:
        """Create or update the dataset row."""
        async with self._sessions() as session:
            row = await crud_dataset.create_dataset(
                session=session, name=name, description=description, metadata=metadata
            )
            count = len(await crud_dataset.list_items(session=session, dataset_id=row.id))
        return DatasetInfo(
            name=row.name, description=row.description, metadata=row.dataset_metadata, items=count
        )

    async def _dataset_id(self, session: AsyncSession, name: str) -> uuid.UUID:
        row = await crud_dataset.get_dataset(session=session, name=name)
        if row is None:
            raise DatasetNotFoundError(f"no dataset named {name!r} (create it first)")
        return row.id

    async def add(self, name: str, items: Sequence[DatasetItemIn]) -> int:
        """Upsert item rows."""
        async with self._sessions() as session:
            dataset = await crud_dataset.get_dataset(session=session, name=name)
            if dataset is None:
                raise DatasetNotFoundError(f"no dataset named {name!r} (create it first)")
            rows = [
                EvalDatasetItem(
                    id=item.item_id(name),
                    dataset_id=dataset.id,
                    input=item.input,
                    expected_output=item.expected_output,
                    item_metadata=item.metadata,
                )
                for item in items
            ]
            await crud_dataset.upsert_items(session=session, dataset=dataset, items=rows)
        return len(rows)

    async def datasets(self) -> list[DatasetInfo]:
        """Every dataset with its item count."""
        async with self._sessions() as session:
            found = await crud_dataset.list_datasets(session=session)
        return [
            DatasetInfo(
                name=d.name, description=d.description, metadata=d.dataset_metadata, items=n
            )
            for d, n in found
        ]

    async def items(self, name: str) -> list[DatasetItemRecord]:
        """The dataset's items in insertion order."""
        async with self._sessions() as session:
            rows = await crud_dataset.list_items(
                session=session, dataset_id=await self._dataset_id(session, name)
            )
        return [
            DatasetItemRecord(
                id=r.id, input=r.input, expected_output=r.expected_output, metadata=r.item_metadata
            )
            for r in rows
        ]

    async def start_run(self, name: str, run_name: str, metadata: dict[str, Any]) -> None:
        """Create (or update) the experiment run row."""
        async with self._sessions() as session:
            await crud_dataset.upsert_experiment_run(
                session=session,
                dataset_id=await self._dataset_id(session, name),
                name=run_name,
                metadata=metadata,
            )

    async def link(
        self, name: str, run_name: str, item_id: str, trace_id: str | None, run_id: uuid.UUID
    ) -> None:
        """Record the item's run."""
        async with self._sessions() as session:
            run = await crud_dataset.get_experiment_run(
                session=session, dataset_id=await self._dataset_id(session, name), name=run_name
            )
            if run is None:
                raise DatasetNotFoundError(f"no experiment run {run_name!r} of {name!r}")
            await crud_dataset.link_item(
                session=session,
                experiment_run_id=run.id,
                dataset_item_id=item_id,
                agent_run_id=run_id,
                trace_id=trace_id,
            )

    async def run(self, name: str, run_name: str) -> ExperimentRunRecord:
        """The run and its item links."""
        async with self._sessions() as session:
            run = await crud_dataset.get_experiment_run(
                session=session, dataset_id=await self._dataset_id(session, name), name=run_name
            )
            if run is None:
                raise DatasetNotFoundError(f"no experiment run {run_name!r} of dataset {name!r}")
            links = await crud_dataset.experiment_items(session=session, experiment_run_id=run.id)
        return ExperimentRunRecord(
            name=run.name,
            metadata=run.run_metadata,
            items=[
                RunItemRecord(item_id=i.dataset_item_id, trace_id=i.trace_id, run_id=i.agent_run_id)
                for i in links
            ],
        )

    async def aclose(self) -> None:
        """Nothing to release."""


class LangfuseDatasetStore:
    """Langfuse datasets through its public API: the SDK's typed client for datasets and items;
    dataset run items over HTTP (`POST/GET /api/public/dataset-run-items`, which SDK 5 has no
    method for: it links experiment traces through span attributes instead)."""

    kind = "langfuse"

    def __init__(self, client: Any) -> None:
        self._client = client
        self._http = httpx.AsyncClient(
            base_url=langfuse_base_url(),
            auth=(str(settings.LANGFUSE_PUBLIC_KEY), str(settings.LANGFUSE_SECRET_KEY)),
            timeout=settings.LANGFUSE_TIMEOUT_SECONDS,
        )
        self._run_meta: dict[tuple[str, str], dict[str, Any]] = {}

    async def _api(self, method: Any, **kwargs: Any) -> Any:
        # The SDK's sync client in a thread (its async client's connections belong to one loop).
        return await asyncio.to_thread(method, **kwargs)

    async def _exists(self, name: str) -> Any:
        try:
            return await self._api(self._client.api.datasets.get, dataset_name=quote(name, ""))
        except Exception as exc:
            if getattr(exc, "status_code", None) == 404:
                raise DatasetNotFoundError(f"no dataset named {name!r} (create it first)") from exc
            raise

    async def _count(self, name: str) -> int:
        page = await self._api(self._client.api.dataset_items.list, dataset_name=name, limit=1)
        return int(page.meta.total_items)

    async def create(
        self, name: str, description: str | None, metadata: dict[str, Any]
    ) -> DatasetInfo:
        """POST /api/public/v2/datasets (Langfuse upserts on the name)."""
        created = await self._api(
            self._client.api.datasets.create,
            name=name,
            description=description,
            metadata=metadata or None,
        )
        return DatasetInfo(
            name=created.name,
            description=created.description,
            metadata=created.metadata or {},
            items=await self._count(name),
        )

    async def add(self, name: str, items: Sequence[DatasetItemIn]) -> int:
        """POST /api/public/dataset-items once per item (upserted on the item id)."""
        await self._exists(name)
        for item in items:
            await self._api(
                self._client.api.dataset_items.create,
                dataset_name=name,
                id=item.item_id(name),
                input=item.input,
                expected_output=item.expected_output,
                metadata=item.metadata or None,
            )
        return len(items)

    async def datasets(self) -> list[DatasetInfo]:
        """GET /api/public/v2/datasets, every page."""
        found, page = [], 1
        while True:
            response = await self._api(self._client.api.datasets.list, page=page, limit=PAGE)
            for d in response.data:
                found.append(
                    DatasetInfo(
                        name=d.name,
                        description=d.description,
                        metadata=d.metadata if isinstance(d.metadata, dict) else {},
                        items=await self._count(d.name),
                    )
                )
            if page >= response.meta.total_pages:
                return found
            page += 1

    async def items(self, name: str) -> list[DatasetItemRecord]:
        """GET /api/public/dataset-items?datasetName=, every page; archived items left out."""
        await self._exists(name)
        found, page = [], 1
        while True:
            response = await self._api(
                self._client.api.dataset_items.list, dataset_name=name, page=page, limit=PAGE
            )
            for item in response.data:
                text = as_text(item.input)
                if str(item.status).upper().endswith("ARCHIVED") or not text:
                    continue
                found.append(
                    DatasetItemRecord(
                        id=item.id,
                        input=text,
                        expected_output=as_text(item.expected_output),
                        metadata=item.metadata if isinstance(item.metadata, dict) else {},
                    )
                )
            if page >= response.meta.total_pages:
                return found
            page += 1

    async def start_run(self, name: str, run_name: str, metadata: dict[str, Any]) -> None:
        """Langfuse creates the run with its first run item; keep the metadata to send then."""
        await self._exists(name)
        self._run_meta[(name, run_name)] = metadata

    async def link(
        self, name: str, run_name: str, item_id: str, trace_id: str | None, run_id: uuid.UUID
    ) -> None:
        """POST /api/public/dataset-run-items (the run's metadata goes with every item)."""
        body = {
            "runName": run_name,
            "datasetItemId": item_id,
            "traceId": trace_id,
            "metadata": {**self._run_meta.get((name, run_name), {}), "run_id": str(run_id)},
        }
        response = await self._http.post("/api/public/dataset-run-items", json=body)
        response.raise_for_status()

    async def run(self, name: str, run_name: str) -> ExperimentRunRecord:
        """GET /api/public/datasets/{name}/runs/{run} (its items, and the run's metadata)."""
        response = await self._http.get(
            f"/api/public/datasets/{quote(name, '')}/runs/{quote(run_name, '')}"
        )
        if response.status_code == 404:
            raise DatasetNotFoundError(f"no experiment run {run_name!r} of dataset {name!r}")
        response.raise_for_status()
        body = response.json()
        metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        return ExperimentRunRecord(
            name=body["name"],
            metadata=metadata,
            items=[
                RunItemRecord(item_id=i["datasetItemId"], trace_id=i.get("traceId"))
                for i in body.get("datasetRunItems", [])
            ],
        )

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()


def open_store(kind: StoreKind, sessions: async_sessionmaker[AsyncSession]) -> DatasetStore:
    """The store for `kind`: `auto` is Langfuse when it is configured, else the database."""
    from app.core.telemetry import get_langfuse

    client = get_langfuse() if kind != "db" else None
    if kind == "langfuse" and client is None:
        raise EvaluationError(
            "--store langfuse needs Langfuse: set LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY "
            "(and LANGFUSE_BASE_URL)"
        )
    return LangfuseDatasetStore(client) if client is not None else DbDatasetStore(sessions)
