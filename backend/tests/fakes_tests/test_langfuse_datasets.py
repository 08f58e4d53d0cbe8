"""The fake's dataset endpoints, read and written with the real Langfuse SDK (datasets, items)
and over HTTP where SDK 5 has no method (dataset run items, dataset runs, score configs)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from langfuse import Langfuse

from tests.fakes.langfuse import LangfuseFake
from tests.fakes_tests.test_langfuse_fake import sdk, sdk_keys  # noqa: F401


@pytest.fixture
def api(langfuse_fake: LangfuseFake) -> Iterator[httpx.Client]:
    """An HTTP client for the fake, authenticated with its default keys."""
    with httpx.Client(base_url=langfuse_fake.url, headers=langfuse_fake.auth_header()) as client:
        yield client


def test_sdk_creates_a_dataset_and_reads_every_page_of_items(sdk: Langfuse) -> None:  # noqa: F811
    sdk.create_dataset(name="golden", description="d", metadata={"k": 1})
    for index in range(7):
        sdk.create_dataset_item(
            dataset_name="golden",
            input={"message": f"q{index}"},
            expected_output=f"a{index}",
            id=f"item-{index}",
        )
    sdk.create_dataset_item(dataset_name="golden", input="q0 again", id="item-0")  # upsert

    dataset = sdk.get_dataset("golden", fetch_items_page_size=3)  # three pages

    assert dataset.name == "golden" and dataset.description == "d"
    assert [item.id for item in dataset.items] == [f"item-{i}" for i in range(7)]
    assert dataset.items[0].input == "q0 again" and dataset.items[1].expected_output == "a1"
    listed = sdk.api.datasets.list(page=1, limit=10)
    assert [d.name for d in listed.data] == ["golden"] and listed.meta.total_items == 1


def test_dataset_errors_follow_the_spec(api: httpx.Client) -> None:
    assert api.get("/api/public/v2/datasets/none").status_code == 404
    missing = api.post("/api/public/dataset-items", json={"datasetName": "none", "input": "x"})
    assert missing.status_code == 404
    assert api.post("/api/public/v2/datasets", json={}).status_code == 400
    api.post("/api/public/v2/datasets", json={"name": "a"}).raise_for_status()
    api.post("/api/public/v2/datasets", json={"name": "b"}).raise_for_status()
    api.post("/api/public/dataset-items", json={"datasetName": "a", "id": "x", "input": 1})
    reused = api.post("/api/public/dataset-items", json={"datasetName": "b", "id": "x"})
    assert reused.status_code == 400  # ids are project-wide
    assert api.get("/api/public/dataset-items", params={"page": 0}).status_code == 400
    no_trace = api.post(
        "/api/public/dataset-run-items", json={"runName": "r", "datasetItemId": "x"}
    )
    assert no_trace.status_code == 400


def test_run_items_create_the_run_and_read_back(api: httpx.Client) -> None:
    dataset = api.post("/api/public/v2/datasets", json={"name": "ds"}).json()
    for index in range(3):
        api.post(
            "/api/public/dataset-items", json={"datasetName": "ds", "id": f"i{index}", "input": "q"}
        ).raise_for_status()
        created = api.post(
            "/api/public/dataset-run-items",
            json={
                "runName": "nightly",
                "datasetItemId": f"i{index}",
                "traceId": f"t{index}",
                "metadata": {"judge": "j"},
            },
        )
        assert created.status_code == 200
        assert created.json()["datasetRunName"] == "nightly"

    run = api.get("/api/public/datasets/ds/runs/nightly").json()
    assert run["metadata"] == {"judge": "j"} and run["datasetName"] == "ds"
    assert [i["traceId"] for i in run["datasetRunItems"]] == ["t0", "t1", "t2"]
    page = api.get(
        "/api/public/dataset-run-items",
        params={"datasetId": dataset["id"], "runName": "nightly", "limit": 2, "page": 2},
    ).json()
    assert [i["datasetItemId"] for i in page["data"]] == ["i2"]
    assert page["meta"] == {"page": 2, "limit": 2, "totalItems": 3, "totalPages": 2}
    runs = api.get("/api/public/datasets/ds/runs").json()
    assert [r["name"] for r in runs["data"]] == ["nightly"]
    assert api.get("/api/public/datasets/ds/runs/other").status_code == 404
    # Deleting an item deletes its run items.
    api.delete("/api/public/dataset-items/i0").raise_for_status()
    run = api.get("/api/public/datasets/ds/runs/nightly").json()
    assert [i["datasetItemId"] for i in run["datasetRunItems"]] == ["i1", "i2"]
    api.delete("/api/public/datasets/ds/runs/nightly").raise_for_status()
    assert api.get("/api/public/datasets/ds/runs/nightly").status_code == 404


def test_boolean_score_configs(sdk: Langfuse) -> None:  # noqa: F811
    created = sdk.api.score_configs.create(name="hallucination", data_type="BOOLEAN")
    assert created.data_type == "BOOLEAN" and created.categories is not None
    listed = sdk.api.score_configs.get(page=1, limit=50)
    assert [c.name for c in listed.data] == ["hallucination"]
