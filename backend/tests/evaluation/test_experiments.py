"""Datasets and experiments: the agent over a 20-item dataset (locally and against the Langfuse
fake), each run linked to its item and judged over HTTP by the judge stub, and the compare gate."""

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

import app.eval_cli  # noqa: F401  (registers `experiment run` on the CLI the tests invoke)
from app.core.db import SessionMaker
from app.evaluation.datasets import DatasetItemIn, DatasetNotFoundError, open_store
from app.evaluation.errors import EvaluationUsageError
from app.models import AgentEvaluation, AgentRun, EvalExperimentItem, EvalExperimentRun
from app.services.experiments import run_experiment
from tests.evaluation.helpers import metric_of
from tests.evaluation.test_cli import invoke
from tests.evaluation.test_cli_output import shell
from tests.fakes.langfuse import LangfuseFake
from tests.fakes.llm_script import Reply, structured
from tests.fakes.openai_server import OpenAIStub
from tests.utils import create_user

DATASET = "regression"
ITEMS = [
    DatasetItemIn(
        input=f"question {i}: show my items",
        expected_output=f"You have items (case {i})." if i < 15 else None,
        metadata={"case": i},
    )
    for i in range(20)
]


def judge_scores(scores: dict[str, float]) -> Callable[[dict[str, Any]], Reply]:
    """A judge stub responder that scores each metric as given (0.9 for the others)."""

    def respond(body: dict[str, Any]) -> Reply:
        metric = metric_of(body)
        return structured({"reasoning": f"graded {metric}", "score": scores.get(metric, 0.9)})

    return respond


async def seed_dataset(store_kind: str = "auto") -> str:
    store = open_store(store_kind, SessionMaker)  # type: ignore[arg-type]
    try:
        await store.create(DATASET, "release gate", {"owner": "tests"})
        await store.add(DATASET, ITEMS)
        await store.add(DATASET, ITEMS)  # the same items again: ids derive from the content
        assert len(await store.items(DATASET)) == 20
    finally:
        await store.aclose()
    return store.kind


async def experiment(name: str, email: str, **kwargs: Any) -> dict[str, Any]:
    return await run_experiment(
        dataset=DATASET,
        run_name=name,
        user_email=email,
        metric_names=["helpfulness"],
        judge_kind="llm",
        concurrency=4,
        write_file=False,
        **kwargs,
    )


async def test_local_experiment_over_20_items_links_runs_and_scores_them(
    langfuse_off: None, judge_stub: OpenAIStub
) -> None:
    user, _ = await create_user()
    assert await seed_dataset() == "db"
    judge_stub.set_responder(judge_scores({}))

    report = await experiment("baseline", user.email)

    assert report["items_failed"] == []
    assert report["store"] == "db" and report["items"] == 20 and report["items_answered"] == 20
    assert report["items_failed"] == []
    assert report["metrics"]["helpfulness"]["judged"] == 20
    assert report["metrics"]["correctness"]["judged"] == 15  # only items with an expected output
    assert report["prompt_versions"].keys() == {"helpfulness", "correctness"}
    assert report["storage"]["links_written"] == 20 and report["storage"]["errors"] == 0
    assert report["storage"]["db_rows_written"] == 35
    # One judge call per (item, metric), all over HTTP to the stub.
    assert len(judge_stub.requests) == 35
    correctness_calls = [b for b in judge_stub.requests if metric_of(b) == "correctness"]
    assert any("You have items (case 3)." in json.dumps(b) for b in correctness_calls)
    async with SessionMaker() as session:
        [run] = (await session.exec(select(EvalExperimentRun))).all()
        links = (await session.exec(select(EvalExperimentItem))).all()
        run_ids = [link.agent_run_id for link in links]
        runs = (await session.exec(select(AgentRun).where(col(AgentRun.id).in_(run_ids)))).all()
        scores = (
            await session.exec(
                select(AgentEvaluation).where(col(AgentEvaluation.run_id).in_(run_ids))
            )
        ).all()
    assert run.name == "baseline" and run.run_metadata["judge_model"] == "gpt-4o-mini"
    assert len(links) == 20 and None not in run_ids
    # Real runs of the designated user, through the normal run path (threads, run log).
    assert len(runs) == 20 and {r.user_id for r in runs} == {user.id}
    assert {r.status for r in runs} == {"success"}
    assert all(r.run_metadata.get("experiment") == "baseline" for r in runs)
    assert sorted(r.input for r in runs) == sorted(i.input for i in ITEMS)
    assert sorted(s.metric_name for s in scores).count("helpfulness") == 20
    assert sorted(s.metric_name for s in scores).count("correctness") == 15


async def test_compare_exits_1_on_an_injected_regression_and_0_without(
    langfuse_off: None, judge_stub: OpenAIStub
) -> None:
    user, _ = await create_user()
    await seed_dataset()
    judge_stub.set_responder(judge_scores({}))
    await experiment("a", user.email)
    await experiment("a-again", user.email)
    judge_stub.set_responder(judge_scores({"helpfulness": 0.4}))  # the injected regression
    await experiment("b", user.email)

    same = await invoke("experiment", "compare", DATASET, "a", "a-again", "--json")
    assert same.exit_code == 0, same.output
    regressed = await invoke(
        "experiment", "compare", DATASET, "a", "b", "--max-regression", "0.1", "--json"
    )
    assert regressed.exit_code == 1, regressed.output
    document = json.loads(regressed.stdout)  # stdout holds the JSON document only
    rows = {row["metric"]: row for row in document["metrics"]}
    assert document["regressed"] == ["helpfulness"]
    assert rows["helpfulness"]["paired_items"] == 20
    assert rows["helpfulness"]["delta"] == -0.5
    low, high = rows["helpfulness"]["quality_delta_ci95"]
    assert low <= -0.5 <= high
    assert rows["correctness"]["regressed"] is False and rows["correctness"]["delta"] == 0.0
    assert "regressed past 0.1: helpfulness" in regressed.stderr
    # A drop within the allowance passes.
    tolerant = await invoke("experiment", "compare", DATASET, "a", "b", "--max-regression", "0.6")
    assert tolerant.exit_code == 0, tolerant.output
    assert "helpfulness (higher is better): A 0.900  B 0.400" in tolerant.stdout
    missing = await invoke("experiment", "compare", DATASET, "a", "nope")
    assert missing.exit_code == 2 and "no experiment run 'nope'" in missing.stderr


async def test_langfuse_experiment_writes_dataset_run_items_and_scores(
    langfuse_on: LangfuseFake, judge_stub: OpenAIStub
) -> None:
    user, _ = await create_user()
    assert await seed_dataset() == "langfuse"
    state = langfuse_on.store.datasets
    assert len(state.items) == 20 and set(state.datasets) == {DATASET}
    judge_stub.set_responder(judge_scores({}))

    report = await experiment("lf-baseline", user.email)

    assert report["store"] == "langfuse" and report["items_answered"] == 20
    [run] = state.runs.values()
    assert run.name == "lf-baseline" and run.metadata["judge_model"] == "gpt-4o-mini"
    run_items = [r for r in state.run_items if r.run_id == run.id]
    assert sorted(r.dataset_item_id for r in run_items) == sorted(state.items)
    async with SessionMaker() as session:
        runs = (await session.exec(select(AgentRun))).all()
    trace_ids = {r.trace_id for r in runs}
    assert None not in trace_ids and {r.trace_id for r in run_items} == trace_ids
    scores = await langfuse_on.await_for(
        lambda: [s for s in langfuse_on.scores() if s.trace_id in trace_ids] or None, 10
    )
    names = sorted(s.name for s in scores)
    assert names.count("helpfulness") == 20 and names.count("correctness") == 15
    assert all(s.metadata["experiment"] == "lf-baseline" for s in scores)

    # compare reads the run items and the scores back from Langfuse.
    judge_stub.set_responder(judge_scores({"correctness": 0.1}))
    await experiment("lf-candidate", user.email)
    result = await invoke("experiment", "compare", DATASET, "lf-baseline", "lf-candidate", "--json")
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert document["store"] == "langfuse" and document["regressed"] == ["correctness"]
    assert {r["metric"]: r["paired_items"] for r in document["metrics"]} == {
        "helpfulness": 20,
        "correctness": 15,
    }


async def test_dataset_cli_adds_a_jsonl_file_once_and_lists_it(
    langfuse_off: None, tmp_path: Path
) -> None:
    items = tmp_path / "items.jsonl"
    lines = [
        json.dumps({"input": "show my items", "expected_output": "You have 2 items."}),
        "",
        json.dumps({"input": "hello", "expectedOutput": None, "metadata": {"tag": "smalltalk"}}),
    ]
    items.write_text("\n".join(lines) + "\n")

    created = await invoke("dataset", "create", "smoke", "--description", "two items")
    assert created.exit_code == 0, created.output
    for _ in range(2):
        added = await invoke("dataset", "add", "smoke", "--file", str(items))
        assert added.exit_code == 0, added.output
    single = await invoke("dataset", "add", "smoke", "--input", "one more", "--json")
    assert single.exit_code == 0 and json.loads(single.stdout)["items_sent"] == 1
    listed = await invoke("dataset", "list", "--json")
    assert json.loads(listed.stdout)["datasets"] == [
        {"name": "smoke", "description": "two items", "metadata": {}, "items": 3}
    ]
    shown = await invoke("dataset", "list", "smoke", "--json")
    by_input = {i["input"]: i for i in json.loads(shown.stdout)["items"]}
    assert by_input["show my items"]["expected_output"] == "You have 2 items."
    assert by_input["hello"]["metadata"] == {"tag": "smalltalk"}

    items.write_text('{"expected_output": "no input"}\n')
    bad = await invoke("dataset", "add", "smoke", "--file", str(items))
    assert bad.exit_code == 2 and f"{items}:1: not a dataset item" in bad.stderr
    unknown = await invoke("dataset", "add", "nope", "--input", "x")
    assert unknown.exit_code == 2 and "no dataset named 'nope'" in unknown.stderr


async def test_experiment_run_cli_end_to_end_and_usage_errors(langfuse_off: None) -> None:
    user, _ = await create_user()
    store = open_store("db", SessionMaker)
    await store.create("cli-smoke", None, {})
    await store.add("cli-smoke", ITEMS[:3])  # the 20-item runs are above; this is the entry point
    cli = f"{sys.executable} -m app.eval_cli"
    env = {"LANGFUSE_ENABLED": "false"}

    code, stdout, stderr = await shell(
        f"{cli} experiment run cli-smoke --name cli-run --user {user.email} --judge offline "
        f"--metric toxicity --no-report --json | {sys.executable} -m json.tool",
        env,
    )
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["items_answered"] == 3 and report["judge_model"] == "offline"
    assert report["metrics"]["toxicity"]["judged"] == 3
    assert report["metrics"]["correctness"]["judged"] == 3
    assert "progress: 3/3 items" in stderr

    assert "Traceback" not in stderr

    no_user = await invoke("experiment", "run", "cli-smoke", "--name", "x")
    assert no_user.exit_code == 2 and "error: give --user EMAIL" in no_user.stderr
    with pytest.raises(EvaluationUsageError, match=r"no active user 'nobody@example\.com'"):
        await run_experiment(
            dataset="cli-smoke",
            run_name="x",
            user_email="nobody@example.com",
            metric_names=[],
            judge_kind="offline",
        )
    with pytest.raises(DatasetNotFoundError, match="no dataset named 'nope'"):
        await run_experiment(
            dataset="nope",
            run_name="x",
            user_email=user.email,
            metric_names=[],
            judge_kind="offline",
        )
