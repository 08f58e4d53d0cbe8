"""Datasets, dataset items, dataset runs with their run items, and score configs of the fake
Langfuse, built to /work/shared/reference/langfuse/openapi.yml (page-based `meta` paging)."""

from __future__ import annotations

import math
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tests.fakes.langfuse_model import iso, now


class DatasetError(Exception):
    """A request the real server answers with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Dataset:
    id: str
    name: str
    description: str | None
    metadata: Any
    created_at: datetime
    updated_at: datetime


@dataclass
class DatasetItem:
    id: str
    dataset_id: str
    input: Any
    expected_output: Any
    metadata: Any
    status: str
    source_trace_id: str | None
    source_observation_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass
class DatasetRun:
    id: str
    dataset_id: str
    name: str
    description: str | None
    metadata: Any
    created_at: datetime
    updated_at: datetime


@dataclass
class DatasetRunItem:
    id: str
    run_id: str
    dataset_item_id: str
    trace_id: str
    observation_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass
class ScoreConfig:
    id: str
    name: str
    data_type: str
    description: str | None
    created_at: datetime
    min_value: float | None = None
    max_value: float | None = None
    categories: list[dict[str, Any]] | None = None


def page_params(query: Any, default_limit: int = 50) -> tuple[int, int]:
    """`page` (from 1) and `limit` query parameters."""
    try:
        page = int(query.get("page") or 1)
        limit = int(query.get("limit") or default_limit)
    except ValueError as exc:
        raise DatasetError(400, "page and limit must be integers") from exc
    if page < 1 or limit < 1:
        raise DatasetError(400, "page and limit must be positive")
    return page, limit


def paginate(rows: list[dict[str, Any]], page: int, limit: int) -> dict[str, Any]:
    """`{data, meta}` as the spec's utilsMetaResponse describes it."""
    start = (page - 1) * limit
    return {
        "data": rows[start : start + limit],
        "meta": {
            "page": page,
            "limit": limit,
            "totalItems": len(rows),
            "totalPages": math.ceil(len(rows) / limit) if rows else 0,
        },
    }


def _json_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise DatasetError(400, "body must be a JSON object")
    return body


def _required_str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise DatasetError(400, f"{key} is required")
    return value


class DatasetState:
    """Everything dataset-related, guarded by one lock (the server runs in a thread)."""

    def __init__(self, project_id: str) -> None:
        self._lock = threading.Lock()
        self.project_id = project_id
        self.datasets: dict[str, Dataset] = {}  # by name
        self.items: dict[str, DatasetItem] = {}  # by id
        self.runs: dict[tuple[str, str], DatasetRun] = {}  # by (dataset id, run name)
        self.run_items: list[DatasetRunItem] = []
        self.score_configs: dict[str, ScoreConfig] = {}

    def reset(self) -> None:
        """Forget everything."""
        with self._lock:
            self.datasets.clear()
            self.items.clear()
            self.runs.clear()
            self.run_items.clear()
            self.score_configs.clear()

    # --- rendering -----------------------------------------------------------------------

    def render_dataset(self, d: Dataset) -> dict[str, Any]:
        return {
            "id": d.id,
            "name": d.name,
            "description": d.description,
            "metadata": d.metadata,
            "inputSchema": None,
            "expectedOutputSchema": None,
            "projectId": self.project_id,
            "createdAt": iso(d.created_at),
            "updatedAt": iso(d.updated_at),
        }

    def _dataset_by_id(self, dataset_id: str) -> Dataset:
        return next(d for d in self.datasets.values() if d.id == dataset_id)

    def render_item(self, item: DatasetItem) -> dict[str, Any]:
        return {
            "id": item.id,
            "status": item.status,
            "input": item.input,
            "expectedOutput": item.expected_output,
            "metadata": item.metadata,
            "sourceTraceId": item.source_trace_id,
            "sourceObservationId": item.source_observation_id,
            "datasetId": item.dataset_id,
            "datasetName": self._dataset_by_id(item.dataset_id).name,
            "createdAt": iso(item.created_at),
            "updatedAt": iso(item.updated_at),
            "mediaReferences": [],
        }

    def render_run(self, run: DatasetRun) -> dict[str, Any]:
        return {
            "id": run.id,
            "name": run.name,
            "description": run.description,
            "metadata": run.metadata,
            "datasetId": run.dataset_id,
            "datasetName": self._dataset_by_id(run.dataset_id).name,
            "createdAt": iso(run.created_at),
            "updatedAt": iso(run.updated_at),
        }

    def render_run_item(self, item: DatasetRunItem) -> dict[str, Any]:
        run = next(r for r in self.runs.values() if r.id == item.run_id)
        return {
            "id": item.id,
            "datasetRunId": run.id,
            "datasetRunName": run.name,
            "datasetItemId": item.dataset_item_id,
            "traceId": item.trace_id,
            "observationId": item.observation_id,
            "createdAt": iso(item.created_at),
            "updatedAt": iso(item.updated_at),
        }

    def render_config(self, config: ScoreConfig) -> dict[str, Any]:
        return {
            "id": config.id,
            "name": config.name,
            "createdAt": iso(config.created_at),
            "updatedAt": iso(config.created_at),
            "projectId": self.project_id,
            "dataType": config.data_type,
            "isArchived": False,
            "minValue": config.min_value,
            "maxValue": config.max_value,
            "categories": config.categories,
            "description": config.description,
        }

    # --- datasets ------------------------------------------------------------------------

    def create_dataset(self, body: Any) -> dict[str, Any]:
        """POST /api/public/v2/datasets: upsert on the name."""
        body = _json_object(body)
        name = _required_str(body, "name")
        with self._lock:
            stamp = now()
            existing = self.datasets.get(name)
            if existing is None:
                existing = Dataset(str(uuid.uuid4()), name, None, None, stamp, stamp)
                self.datasets[name] = existing
            if "description" in body:
                existing.description = body["description"]
            if "metadata" in body:
                existing.metadata = body["metadata"]
            existing.updated_at = stamp
            return self.render_dataset(existing)

    def get_dataset(self, name: str) -> dict[str, Any]:
        with self._lock:
            dataset = self.datasets.get(name)
            if dataset is None:
                raise DatasetError(404, f"Dataset {name} not found")
            return self.render_dataset(dataset)

    def list_datasets(self, query: Any) -> dict[str, Any]:
        page, limit = page_params(query)
        with self._lock:
            rows = [
                self.render_dataset(d)
                for d in sorted(self.datasets.values(), key=lambda d: d.created_at, reverse=True)
            ]
        return paginate(rows, page, limit)

    # --- items ---------------------------------------------------------------------------

    def create_item(self, body: Any) -> dict[str, Any]:
        """POST /api/public/dataset-items: upsert on the id (unique across datasets)."""
        body = _json_object(body)
        name = _required_str(body, "datasetName")
        status = body.get("status") or "ACTIVE"
        if status not in ("ACTIVE", "ARCHIVED"):
            raise DatasetError(400, "status must be ACTIVE or ARCHIVED")
        item_id = body.get("id") or str(uuid.uuid4())
        if not isinstance(item_id, str) or len(item_id) > 255:
            raise DatasetError(400, "id must be a string of at most 255 characters")
        with self._lock:
            dataset = self.datasets.get(name)
            if dataset is None:
                raise DatasetError(404, f"Dataset {name} not found")
            stamp = now()
            item = self.items.get(item_id)
            if item is not None and item.dataset_id != dataset.id:
                raise DatasetError(400, "Dataset item ids cannot be reused across datasets")
            if item is None:
                item = DatasetItem(
                    item_id, dataset.id, None, None, None, status, None, None, stamp, stamp
                )
                self.items[item_id] = item
            item.input = body.get("input", item.input)
            item.expected_output = body.get("expectedOutput", item.expected_output)
            item.metadata = body.get("metadata", item.metadata)
            item.status = status
            item.source_trace_id = body.get("sourceTraceId")
            item.source_observation_id = body.get("sourceObservationId")
            item.updated_at = stamp
            return self.render_item(item)

    def get_item(self, item_id: str) -> dict[str, Any]:
        with self._lock:
            item = self.items.get(item_id)
            if item is None:
                raise DatasetError(404, f"Dataset item {item_id} not found")
            return self.render_item(item)

    def delete_item(self, item_id: str) -> dict[str, Any]:
        """Delete an item and its run items."""
        with self._lock:
            if self.items.pop(item_id, None) is None:
                raise DatasetError(404, f"Dataset item {item_id} not found")
            self.run_items = [r for r in self.run_items if r.dataset_item_id != item_id]
            return {"message": "Dataset item successfully deleted"}

    def list_items(self, query: Any) -> dict[str, Any]:
        page, limit = page_params(query)
        name = query.get("datasetName")
        if query.get("version") and not name:
            raise DatasetError(400, "version requires datasetName")
        with self._lock:
            items = list(self.items.values())
            if name:
                dataset = self.datasets.get(name)
                if dataset is None:
                    raise DatasetError(404, f"Dataset {name} not found")
                items = [i for i in items if i.dataset_id == dataset.id]
            if query.get("sourceTraceId"):
                items = [i for i in items if i.source_trace_id == query["sourceTraceId"]]
            items.sort(key=lambda i: (i.created_at, i.id))
            rows = [self.render_item(i) for i in items]
        return paginate(rows, page, limit)

    # --- runs and run items --------------------------------------------------------------

    def create_run_item(self, body: Any) -> dict[str, Any]:
        """POST /api/public/dataset-run-items: the run is created with its first item, and its
        description and metadata are updated by later ones."""
        body = _json_object(body)
        run_name = _required_str(body, "runName")
        item_id = _required_str(body, "datasetItemId")
        trace_id = body.get("traceId")
        if not isinstance(trace_id, str) or not trace_id:
            raise DatasetError(400, "traceId is required (observationId alone is not supported)")
        with self._lock:
            item = self.items.get(item_id)
            if item is None:
                raise DatasetError(404, f"Dataset item {item_id} not found")
            stamp = now()
            key = (item.dataset_id, run_name)
            run = self.runs.get(key)
            if run is None:
                run = DatasetRun(
                    str(uuid.uuid4()), item.dataset_id, run_name, None, None, stamp, stamp
                )
                self.runs[key] = run
            if body.get("runDescription") is not None:
                run.description = body["runDescription"]
            if body.get("metadata") is not None:
                run.metadata = body["metadata"]
            run.updated_at = stamp
            created = DatasetRunItem(
                str(uuid.uuid4()),
                run.id,
                item_id,
                trace_id,
                body.get("observationId"),
                stamp,
                stamp,
            )
            self.run_items.append(created)
            return self.render_run_item(created)

    def list_run_items(self, query: Any) -> dict[str, Any]:
        page, limit = page_params(query)
        dataset_id, run_name = query.get("datasetId"), query.get("runName")
        if not dataset_id or not run_name:
            raise DatasetError(400, "datasetId and runName are required")
        with self._lock:
            run = self.runs.get((dataset_id, run_name))
            rows = [self.render_run_item(r) for r in self.run_items if run and r.run_id == run.id]
        return paginate(rows, page, limit)

    def _run(self, dataset_name: str, run_name: str) -> DatasetRun:
        dataset = self.datasets.get(dataset_name)
        if dataset is None:
            raise DatasetError(404, f"Dataset {dataset_name} not found")
        run = self.runs.get((dataset.id, run_name))
        if run is None:
            raise DatasetError(404, f"Dataset run {run_name} not found")
        return run

    def get_run(self, dataset_name: str, run_name: str) -> dict[str, Any]:
        """GET /api/public/datasets/{name}/runs/{run}: the run with every run item."""
        with self._lock:
            run = self._run(dataset_name, run_name)
            items = [self.render_run_item(r) for r in self.run_items if r.run_id == run.id]
            return {**self.render_run(run), "datasetRunItems": items}

    def delete_run(self, dataset_name: str, run_name: str) -> dict[str, Any]:
        with self._lock:
            run = self._run(dataset_name, run_name)
            del self.runs[(run.dataset_id, run.name)]
            self.run_items = [r for r in self.run_items if r.run_id != run.id]
            return {"message": "Dataset run successfully deleted"}

    def list_runs(self, dataset_name: str, query: Any) -> dict[str, Any]:
        page, limit = page_params(query)
        with self._lock:
            dataset = self.datasets.get(dataset_name)
            if dataset is None:
                raise DatasetError(404, f"Dataset {dataset_name} not found")
            runs = [r for r in self.runs.values() if r.dataset_id == dataset.id]
            rows = [
                self.render_run(r) for r in sorted(runs, key=lambda r: r.created_at, reverse=True)
            ]
        return paginate(rows, page, limit)

    # --- score configs -------------------------------------------------------------------

    def create_config(self, body: Any) -> dict[str, Any]:
        """POST /api/public/score-configs."""
        body = _json_object(body)
        name = _required_str(body, "name")
        data_type = body.get("dataType")
        if data_type not in ("NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT"):
            raise DatasetError(400, "dataType must be NUMERIC, BOOLEAN, CATEGORICAL or TEXT")
        if len(name) > 35:
            raise DatasetError(400, "name must be at most 35 characters")
        if data_type == "BOOLEAN" and body.get("categories"):
            raise DatasetError(400, "categories are autogenerated for boolean configs")
        categories = body.get("categories")
        if data_type == "BOOLEAN":
            categories = [{"value": 1, "label": "True"}, {"value": 0, "label": "False"}]
        config = ScoreConfig(
            str(uuid.uuid4()),
            name,
            data_type,
            body.get("description"),
            now(),
            body.get("minValue"),
            body.get("maxValue"),
            categories,
        )
        with self._lock:
            self.score_configs[config.id] = config
            return self.render_config(config)

    def list_configs(self, query: Any) -> dict[str, Any]:
        page, limit = page_params(query)
        with self._lock:
            rows = [self.render_config(c) for c in self.score_configs.values()]
        return paginate(rows, page, limit)

    def config(self, config_id: str) -> ScoreConfig | None:
        """A config by id (scores sent with a configId are checked against it)."""
        with self._lock:
            return self.score_configs.get(config_id)
