"""Grounded judging: labelled blocks, claim-level hallucination, not-applicable outcomes."""

import json
import re
from typing import Any

from app.evaluation import EvaluationOptions, Evaluator
from app.evaluation.metrics import load_metrics
from app.evaluation.text import trace_parts
from app.models import AgentRun
from tests.evaluation.helpers import create_run, metric_of
from tests.fakes.llm_script import structured
from tests.fakes.openai_server import OpenAIStub
from tests.utils import create_user


def prompt_of(body: dict[str, Any]) -> str:
    """The judge request's user message (the rendered metric prompt)."""
    return str(body["messages"][-1]["content"])


def system_of(body: dict[str, Any]) -> str:
    return str(body["messages"][0]["content"])


def block(text: str, tag: str) -> str:
    match = re.search(rf"<{tag}>\n(.*?)\n</{tag}>", text, re.S)
    return match.group(1) if match else ""


def fact_checker(body: dict[str, Any]) -> Any:
    """A stand-in judge: each sentence of the final answer is a claim; it is supported when the
    tool outputs contain its key word, contradicted when they contain the key word negated."""
    prompt = prompt_of(body)
    outputs = " ".join(re.findall(r"<output>\n(.*?)\n</output>", prompt, re.S)).lower()
    claims = []
    for sentence in filter(None, (s.strip() for s in block(prompt, "final_answer").split("."))):
        key = sentence.split()[-1].lower()
        if sentence.lower().startswith(("thanks", "you're welcome")):
            verdict, evidence = "not_checkable", ""
        elif f"not {key}" in outputs or f'"{key}": false' in outputs:
            verdict, evidence = "unsupported", f"not {key}"
        elif key in outputs:
            verdict, evidence = "supported", key
        else:
            verdict, evidence = "unsupported", ""
        claims.append({"claim": sentence, "evidence": evidence, "verdict": verdict})
    return structured({"claims": claims, "reasoning": f"{len(claims)} claim(s) checked"})


async def run_with_tool(user_id: Any, message: str, answer: str, tool_output: str) -> AgentRun:
    run = await create_run(user_id, message=message, response=answer)
    run.tool_calls = [{"id": "c1", "name": "lookup_account", "args": {}, "output": tool_output}]
    from app.core.db import SessionMaker

    async with SessionMaker() as session:
        session.add(run)
        await session.commit()
    return run


async def test_the_judge_sees_labelled_blocks_with_tool_outputs(
    langfuse_off: None, judge_stub: OpenAIStub
) -> None:
    user, _ = await create_user()
    await create_run(user.id, message="show my items", response="You have a and b.")
    judge_stub.set_responder(lambda body: structured({"reasoning": "on topic", "score": 0.9}))

    report = await Evaluator(
        EvaluationOptions(metrics=["relevancy"], source="db"), langfuse=None
    ).run(generate_report_file=False)

    assert report["metrics_summary"]["relevancy"]["success_count"] == 1
    prompt = prompt_of(judge_stub.requests[0])
    assert block(prompt, "user_input") == "show my items"
    assert '<tool_call name="lookup_user_items">' in prompt
    assert block(prompt, "output") == "a, b"
    assert block(prompt, "final_answer") == "You have a and b."


async def test_claim_level_hallucination_when_the_tool_output_contradicts_the_answer(
    langfuse_off: None, judge_stub: OpenAIStub
) -> None:
    user, _ = await create_user()
    await run_with_tool(user.id, "is my account ok?", "Your account is active.", '"active": false')
    await run_with_tool(user.id, "how many orders?", "You have 3 orders.", "orders: 3 orders")
    await run_with_tool(user.id, "thanks", "Thanks for asking.", "nothing")
    judge_stub.set_responder(fact_checker)

    report = await Evaluator(
        EvaluationOptions(metrics=["hallucination"], source="db"), langfuse=None
    ).run(generate_report_file=False)

    assert {metric_of(r) for r in judge_stub.requests} == {"hallucination"}
    request = judge_stub.requests[0]
    assert request["tool_choice"]["function"]["name"] == "ClaimsVerdict"
    # The few-shot examples show the tool outputs the claims were checked against.
    assert 'Tool calls: lookup_user(email="bob@example.com") ->' in system_of(request)
    summary = report["metrics_summary"]["hallucination"]
    assert summary["success_count"] == 2 and summary["not_applicable_count"] == 1
    assert summary["failure_count"] == 0 and summary["pass_rate"] == 0.5
    results = {
        d["metrics_results"]["hallucination"]["reasoning"].splitlines()[2]: d["metrics_results"][
            "hallucination"
        ]
        for d in report["successful_traces_details"]
    }
    contradicted = results['- [unsupported] Your account is active (evidence: "not active")']
    assert contradicted["score"] == 1.0 and contradicted["passed"] is False
    assert "Score = 1 unsupported / 1 checkable = 1.000." in contradicted["reasoning"]
    grounded = results['- [supported] You have 3 orders (evidence: "orders")']
    assert grounded["score"] == 0.0 and grounded["passed"] is True
    not_applicable = results["- [not_checkable] Thanks for asking"]
    assert not_applicable["not_applicable"] and not_applicable["score"] is None
    assert not_applicable["passed"] is None
    assert "Not applicable: no checkable claim." in not_applicable["reasoning"]


async def test_offline_claims_check_values_against_tool_outputs(langfuse_off: None) -> None:
    user, _ = await create_user()
    await run_with_tool(user.id, "my balance?", "Your balance is 4,210 EUR.", "balance: 1,200 EUR")
    await run_with_tool(user.id, "my balance?", "Your balance is 1,200 EUR.", "balance: 1,200 EUR")
    report = await Evaluator(
        EvaluationOptions(metrics=["hallucination"], source="db", judge="offline"), langfuse=None
    ).run(generate_report_file=False)
    scores = sorted(
        d["metrics_results"]["hallucination"]["score"] for d in report["successful_traces_details"]
    )
    assert scores == [0.0, 1.0]


def test_trace_parts_split_request_conversation_and_tool_calls() -> None:
    output = {
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "show my items"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "lookup_user_items", "arguments": '{"q": 1}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "[apples]"},
            {"role": "assistant", "content": "You have apples."},
        ]
    }
    request, conversation, calls = trace_parts(None, json.dumps(output))
    assert request == "show my items"
    assert conversation == "user: hi\nassistant: hello"
    assert [(c.name, c.args, c.output) for c in calls] == [
        ("lookup_user_items", '{"q": 1}', "[apples]")
    ]
    assert trace_parts("plain", "text") == (None, "", [])


def test_bundled_hallucination_metric_scores_by_claims() -> None:
    metric = load_metrics()["hallucination"]
    assert metric.scoring == "claims" and all(ex.tools for ex in metric.examples)
