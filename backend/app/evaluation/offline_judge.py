"""A deterministic, dependency-free judge for demos and tests: text heuristics, not an LLM.

Its scores only depend on the text, so repeated runs agree exactly; reports label it `offline`.
"""

import re
from collections.abc import Callable

from app.evaluation.claims import claims_result
from app.evaluation.schemas import (
    ClaimCheck,
    ClaimsVerdict,
    JudgeResult,
    JudgeUsage,
    JudgeVerdict,
    MetricDefinition,
    TraceRecord,
)

OFFLINE_JUDGE_NAME = "offline"

_WORD = re.compile(r"[a-z0-9]+")
_SPECIFIC = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+\.[\w.]+|\b\d[\d,.:-]{2,}\b")
_STOPWORDS = frozenset(
    "a an and are as at be by can do for from has have how i in is it me my of on or please "
    "show tell that the this to was what when where which who why with you your".split()
)
_TOXIC = frozenset(
    "idiot stupid dumb clueless moron shut hate loser pathetic worthless useless".split()
)
_FILLER = (
    "great question",
    "i hope this helps",
    "let me know if",
    "as an ai",
    "step by step",
    "feel free to",
    "happy to help",
)
_UNHELPFUL = ("i don't know", "i cannot", "i can't", "unable to", "something went wrong", "error")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _content_words(text: str) -> set[str]:
    return {word for word in _words(text) if word not in _STOPWORDS and len(word) > 1}


def _overlap(trace: TraceRecord) -> float:
    asked = _content_words(trace.input)
    if not asked:
        return 0.5
    return len(asked & _content_words(trace.output)) / len(asked)


def _clamp(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 3)


def _relevancy(trace: TraceRecord) -> tuple[float, str]:
    overlap = _overlap(trace)
    return _clamp(
        0.3 + 1.4 * overlap
    ), f"{overlap:.0%} of the request's content words recur in the answer."


def _helpfulness(trace: TraceRecord) -> tuple[float, str]:
    text = trace.output.lower()
    if not text.strip():
        return 0.0, "The answer is empty."
    if any(marker in text for marker in _UNHELPFUL):
        return 0.3, "The answer reports an error or declines without a concrete result."
    overlap = _overlap(trace)
    return _clamp(
        0.45 + 0.9 * overlap
    ), f"A direct answer; {overlap:.0%} of the request is addressed."


def _conciseness(trace: TraceRecord) -> tuple[float, str]:
    count = len(_words(trace.output))
    fillers = [phrase for phrase in _FILLER if phrase in trace.output.lower()]
    score = 1.0 if count <= 80 else 80 / count
    score -= 0.2 * len(fillers)
    reason = f"{count} words" + (f"; filler: {', '.join(fillers)}" if fillers else "; no filler")
    return _clamp(score), reason + "."


def _hallucination(trace: TraceRecord) -> tuple[float, str]:
    unsupported = [s for s in _SPECIFIC.findall(trace.output) if s not in trace.input]
    score = 0.05 + 0.1 * max(0, len(unsupported) - 2)
    return _clamp(score), f"{len(unsupported)} specific value(s) not present in the request."


def offline_claims(trace: TraceRecord) -> ClaimsVerdict:
    """Each specific value of the answer (number, date, email, URL) is a claim, supported when
    the request, conversation or a tool output contains it."""
    sources = [trace.input, trace.request or "", trace.conversation]
    sources += [f"{call.args}\n{call.output}" for call in trace.tool_calls]
    checks = []
    for value in dict.fromkeys(_SPECIFIC.findall(trace.output)):
        evidence = next((text for text in sources if value in text), None)
        checks.append(
            ClaimCheck(
                claim=f"the answer states {value!r}",
                evidence=value if evidence is not None else "",
                verdict="supported" if evidence is not None else "unsupported",
            )
        )
    found = f"{len(checks)} specific value(s) checked against the context"
    return ClaimsVerdict(claims=checks, reasoning=f"[offline heuristic] {found}.")


def _toxicity(trace: TraceRecord) -> tuple[float, str]:
    hits = sorted(set(_words(trace.output)) & _TOXIC)
    if not hits:
        return 0.0, "No insulting or hostile words."
    return _clamp(0.4 * len(hits)), f"Hostile words: {', '.join(hits)}."


def _correctness(trace: TraceRecord) -> tuple[float, str]:
    expected = _content_words(trace.expected_output or "")
    if not expected:
        return 0.5, "No expected output to compare with."
    share = len(expected & _content_words(trace.output)) / len(expected)
    return _clamp(share), f"{share:.0%} of the expected output's content words are in the answer."


_HEURISTICS: dict[str, Callable[[TraceRecord], tuple[float, str]]] = {
    "relevancy": _relevancy,
    "helpfulness": _helpfulness,
    "conciseness": _conciseness,
    "hallucination": _hallucination,
    "toxicity": _toxicity,
    "correctness": _correctness,
}


class OfflineJudge:
    """Scores with fixed text heuristics; metrics without one get the relevancy heuristic."""

    name = OFFLINE_JUDGE_NAME
    offline = True

    async def judge(self, metric: MetricDefinition, trace: TraceRecord) -> JudgeResult:
        """Score one trace for one metric (no I/O, never fails)."""
        if metric.scoring == "claims":
            return claims_result(offline_claims(trace), JudgeUsage(cost_usd=0.0))
        heuristic = _HEURISTICS.get(metric.name, _relevancy)
        score, reason = heuristic(trace)
        prefix = "offline heuristic" if metric.name in _HEURISTICS else "offline generic heuristic"
        verdict = JudgeVerdict(reasoning=f"[{prefix}] {reason}", score=score)
        return JudgeResult(verdict=verdict, usage=JudgeUsage(cost_usd=0.0))

    async def aclose(self) -> None:
        """Nothing to release."""
