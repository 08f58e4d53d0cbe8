"""HTTP routes of the fake Langfuse, built to /work/shared/reference/langfuse/openapi.yml."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.langfuse_datasets import DatasetError
from tests.fakes.langfuse_query import QueryError
from tests.fakes.langfuse_score_search import list_scores_v2, list_scores_v3
from tests.fakes.langfuse_scores import ScoreError, render_v1
from tests.fakes.langfuse_search import get_trace, list_observations, list_traces
from tests.fakes.langfuse_store import LangfuseStore
from tests.fakes.otlp import OtlpDecodeError, parse_export_request

SERVER_VERSION = "4.16.0"  # the server version the spec was published with
UNAUTHENTICATED_PATHS = {"/api/public/health"}  # the spec lists no security for health


@dataclass
class LangfuseConfig:
    """What the routes need besides the store: accepted key pairs and the project."""

    credentials: dict[str, str]
    project_id: str = "fake-project"
    project_name: str = "Fake project"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message, "error": message}, status_code=status)


def _authorized(request: Request, credentials: dict[str, str]) -> bool:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        public_key, _, secret_key = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return credentials.get(public_key) == secret_key and bool(secret_key)


Handler = Callable[[Request], Awaitable[Response]]


def build_app(store: LangfuseStore, config: LangfuseConfig) -> Starlette:
    """The ASGI app; every /api/public route except health needs Basic auth."""

    def guarded(handler: Handler) -> Handler:
        async def wrapper(request: Request) -> Response:
            if request.url.path not in UNAUTHENTICATED_PATHS and not _authorized(
                request, config.credentials
            ):
                return _error(
                    401, "Invalid credentials. Confirm that you've configured the correct host."
                )
            try:
                return await handler(request)
            except (QueryError, ScoreError, OtlpDecodeError) as exc:
                return _error(400, str(exc))
            except DatasetError as exc:
                return _error(exc.status, str(exc))

        return wrapper

    async def health(request: Request) -> Response:
        return JSONResponse({"version": SERVER_VERSION, "status": "OK"})

    async def projects(request: Request) -> Response:
        project = {
            "id": config.project_id,
            "name": config.project_name,
            "organization": {"id": "fake-org", "name": "Fake organization"},
            "metadata": {},
        }
        return JSONResponse({"data": [project]})

    async def ingest_otel(request: Request) -> Response:
        spans = parse_export_request(
            await request.body(),
            request.headers.get("content-type", ""),
            request.headers.get("content-encoding", ""),
        )
        store.add_spans(spans)
        return JSONResponse({})

    async def create_scores(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error(400, "body must be JSON")
        if not isinstance(body, list):  # the spec: one CreateScoreRequest -> 200 {id}
            return JSONResponse({"id": store.upsert_score(body).id})
        # SDK 5 posts a JSON list (newer server): 202 when all are accepted, 207 otherwise
        errors = []
        for item in body:
            try:
                store.upsert_score(item)
            except ScoreError as exc:
                errors.append({"message": str(exc)})
        if not errors:
            return JSONResponse({"message": "Accepted"}, status_code=202)
        accepted = len(body) - len(errors)
        summary = {"accepted": accepted, "rejected": len(errors), "errors": errors}
        return JSONResponse(summary, status_code=207)

    async def scores_v3(request: Request) -> Response:
        return JSONResponse(list_scores_v3(store, config.project_id, request.query_params))

    async def scores_v2(request: Request) -> Response:
        return JSONResponse(list_scores_v2(store, request.query_params))

    async def score_delete(request: Request) -> Response:
        if not store.delete_score(request.path_params["score_id"]):
            return _error(404, "Score not found")
        return Response(status_code=204)

    async def score_v2(request: Request) -> Response:
        score_id = request.path_params["score_id"]
        score = next((s for s in store.scores() if s.id == score_id), None)
        if score is None:
            return _error(404, "Score not found")
        return JSONResponse(render_v1(score))

    async def observations_v2(request: Request) -> Response:
        return JSONResponse(list_observations(store, config.project_id, request.query_params))

    async def traces(request: Request) -> Response:
        return JSONResponse(list_traces(store, config.project_id, request.query_params))

    async def trace(request: Request) -> Response:
        trace_id = request.path_params["trace_id"]
        found = get_trace(store, config.project_id, trace_id, request.query_params)
        if found is None:
            return _error(404, f"Trace {trace_id} not found")
        return JSONResponse(found)

    async def delete_trace(request: Request) -> Response:
        # The spec: DELETE /api/public/traces/{traceId} -> 200 DeleteTraceResponse {message}.
        trace_id = request.path_params["trace_id"]
        if not store.delete_traces([trace_id]):
            return _error(404, f"Trace {trace_id} not found")
        return JSONResponse({"message": "Trace deleted successfully"})

    async def delete_traces(request: Request) -> Response:
        # The spec: DELETE /api/public/traces with {"traceIds": [...]} (required) -> 200
        # DeleteTraceResponse. Like the server, ids of traces it doesn't hold are no error.
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error(400, "body must be JSON")
        ids = body.get("traceIds") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return _error(400, "traceIds: a list of strings is required")
        store.delete_traces(ids)
        return JSONResponse({"message": "Traces deleted successfully"})

    datasets = store.datasets

    async def body_of(request: Request) -> object:
        try:
            return json.loads(await request.body())
        except ValueError as exc:
            raise DatasetError(400, "body must be JSON") from exc

    async def datasets_create(request: Request) -> Response:
        return JSONResponse(datasets.create_dataset(await body_of(request)))

    async def datasets_list(request: Request) -> Response:
        return JSONResponse(datasets.list_datasets(request.query_params))

    async def datasets_get(request: Request) -> Response:
        return JSONResponse(datasets.get_dataset(request.path_params["name"]))

    async def items_create(request: Request) -> Response:
        return JSONResponse(datasets.create_item(await body_of(request)))

    async def items_list(request: Request) -> Response:
        return JSONResponse(datasets.list_items(request.query_params))

    async def item_get(request: Request) -> Response:
        return JSONResponse(datasets.get_item(request.path_params["item_id"]))

    async def item_delete(request: Request) -> Response:
        return JSONResponse(datasets.delete_item(request.path_params["item_id"]))

    async def run_items_create(request: Request) -> Response:
        return JSONResponse(datasets.create_run_item(await body_of(request)))

    async def run_items_list(request: Request) -> Response:
        return JSONResponse(datasets.list_run_items(request.query_params))

    async def runs_list(request: Request) -> Response:
        return JSONResponse(datasets.list_runs(request.path_params["name"], request.query_params))

    async def run_get(request: Request) -> Response:
        params = request.path_params
        return JSONResponse(datasets.get_run(params["name"], params["run"]))

    async def run_delete(request: Request) -> Response:
        params = request.path_params
        return JSONResponse(datasets.delete_run(params["name"], params["run"]))

    async def configs_create(request: Request) -> Response:
        return JSONResponse(datasets.create_config(await body_of(request)))

    async def configs_list(request: Request) -> Response:
        return JSONResponse(datasets.list_configs(request.query_params))

    routes = [
        Route("/api/public/v2/datasets", guarded(datasets_create), methods=["POST"]),
        Route("/api/public/v2/datasets", guarded(datasets_list), methods=["GET"]),
        Route("/api/public/v2/datasets/{name}", guarded(datasets_get), methods=["GET"]),
        Route("/api/public/dataset-items", guarded(items_create), methods=["POST"]),
        Route("/api/public/dataset-items", guarded(items_list), methods=["GET"]),
        Route("/api/public/dataset-items/{item_id}", guarded(item_get), methods=["GET"]),
        Route("/api/public/dataset-items/{item_id}", guarded(item_delete), methods=["DELETE"]),
        Route("/api/public/dataset-run-items", guarded(run_items_create), methods=["POST"]),
        Route("/api/public/dataset-run-items", guarded(run_items_list), methods=["GET"]),
        Route("/api/public/datasets/{name}/runs", guarded(runs_list), methods=["GET"]),
        Route("/api/public/datasets/{name}/runs/{run}", guarded(run_get), methods=["GET"]),
        Route("/api/public/datasets/{name}/runs/{run}", guarded(run_delete), methods=["DELETE"]),
        Route("/api/public/score-configs", guarded(configs_create), methods=["POST"]),
        Route("/api/public/score-configs", guarded(configs_list), methods=["GET"]),
        Route("/api/public/health", guarded(health), methods=["GET"]),
        Route("/api/public/projects", guarded(projects), methods=["GET"]),
        Route("/api/public/otel/v1/traces", guarded(ingest_otel), methods=["POST"]),
        Route("/api/public/scores", guarded(create_scores), methods=["POST"]),
        Route("/api/public/scores/{score_id}", guarded(score_delete), methods=["DELETE"]),
        Route("/api/public/v3/scores", guarded(scores_v3), methods=["GET"]),
        Route("/api/public/v2/scores", guarded(scores_v2), methods=["GET"]),
        Route("/api/public/v2/scores/{score_id}", guarded(score_v2), methods=["GET"]),
        Route("/api/public/v2/observations", guarded(observations_v2), methods=["GET"]),
        Route("/api/public/traces", guarded(traces), methods=["GET"]),
        Route("/api/public/traces", guarded(delete_traces), methods=["DELETE"]),
        Route("/api/public/traces/{trace_id}", guarded(trace), methods=["GET"]),
        Route("/api/public/traces/{trace_id}", guarded(delete_trace), methods=["DELETE"]),
    ]
    return Starlette(routes=routes)
