"""Claim-level scoring: the score follows from the judge's per-claim verdicts, not its opinion."""

from app.evaluation.schemas import ClaimCheck, ClaimsVerdict, JudgeResult, JudgeUsage, JudgeVerdict


def claims_reasoning(verdict: ClaimsVerdict, score: float | None) -> str:
    """The summary, every claim with its verdict and evidence, and how the score follows."""
    lines = [verdict.reasoning.strip(), "Claims:"]
    lines += [
        f"- [{c.verdict}] {c.claim}" + (f' (evidence: "{c.evidence}")' if c.evidence else "")
        for c in verdict.claims
    ] or ["- none"]
    checkable = [c for c in verdict.claims if c.verdict != "not_checkable"]
    unsupported = sum(1 for c in checkable if c.verdict == "unsupported")
    lines.append(
        "Not applicable: no checkable claim."
        if score is None
        else f"Score = {unsupported} unsupported / {len(checkable)} checkable = {score:.3f}."
    )
    return "\n".join(lines)


def claims_score(claims: list[ClaimCheck]) -> float | None:
    """The share of checkable claims that are unsupported; None (not applicable) without any."""
    checkable = [c for c in claims if c.verdict != "not_checkable"]
    if not checkable:
        return None
    return round(sum(1 for c in checkable if c.verdict == "unsupported") / len(checkable), 4)


def claims_result(
    claims: ClaimsVerdict, usage: JudgeUsage, attempts: int = 1, latency_ms: int = 0
) -> JudgeResult:
    """A judge result from claim verdicts: the computed score, or not applicable."""
    score = claims_score(claims.claims)
    reasoning = claims_reasoning(claims, score)
    return JudgeResult(
        verdict=None if score is None else JudgeVerdict(reasoning=reasoning, score=score),
        not_applicable=reasoning if score is None else None,
        usage=usage,
        attempts=attempts,
        latency_ms=latency_ms,
    )
