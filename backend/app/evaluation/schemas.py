"""Data shapes of the evaluation pipeline: metrics, traces, verdicts, judgments and options."""

import uuid
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.config import settings
from app.models.storable import StorableText

JudgeKind = Literal["auto", "llm", "offline"]
SourceKind = Literal["auto", "langfuse", "db"]
METRIC_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"


class MetricExample(BaseModel):
    """A few-shot example shown to the judge (with the tool outputs it was graded against)."""

    input: str
    output: str
    tools: str = ""  # the tool calls and outputs the answer can be checked against
    reasoning: str
    score: float = Field(ge=0.0, le=1.0)


class ToolCallRecord(BaseModel):
    """One tool call of a trace with its output (what the answer can be grounded in)."""

    name: str
    args: str = ""
    output: str = ""


ClaimStatus = Literal["supported", "unsupported", "not_checkable"]


class ClaimCheck(BaseModel):
    """One factual claim of the answer and whether the context supports it."""

    claim: str = Field(min_length=1, description="One factual claim made by the final answer.")
    evidence: str = Field(
        default="",
        description="The exact quote from the tool outputs or conversation that supports or "
        "contradicts the claim; empty when nothing there bears on it.",
    )
    verdict: ClaimStatus = Field(
        description="supported: the evidence states it; unsupported: the evidence contradicts "
        "it or it asserts specifics the context lacks; not_checkable: opinion, hedge or general "
        "knowledge the context cannot confirm or refute."
    )


class ClaimsVerdict(BaseModel):
    """The judge's claim-by-claim answer; the score is computed from the verdicts."""

    claims: list[ClaimCheck] = Field(
        description="Every factual claim of the final answer, each with evidence and verdict."
    )
    reasoning: str = Field(min_length=1, description="A short summary of the verdicts.")


class MetricDefinition(BaseModel):
    """A metric loaded from a markdown prompt file (front matter + prompt body)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=METRIC_NAME_PATTERN)
    description: str = ""
    higher_is_better: bool = True
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    min_pass_rate: float = Field(default=0.8, ge=0.0, le=1.0)
    version: str = Field(default="1", max_length=64)  # the prompt version scores are keyed by
    # rubric: the judge gives a score; claims: it checks each factual claim, the score is the
    # share of checkable claims that are unsupported (none checkable: not applicable).
    scoring: Literal["rubric", "claims"] = "rubric"
    # Reference-based: graded against a dataset item's expected output (`{expected_output}`),
    # so it only runs in experiments, on items that have one.
    reference: bool = False
    examples: tuple[MetricExample, ...] = ()
    prompt: str = Field(min_length=1)
    path: Path | None = None

    @model_validator(mode="after")
    def _has_placeholders(self) -> "MetricDefinition":
        needed = ("{input}", "{output}") + (("{expected_output}",) if self.reference else ())
        missing = [p for p in needed if p not in self.prompt]
        if missing:
            raise ValueError(f"metric {self.name!r}: prompt lacks {', '.join(missing)}")
        return self

    def passed(self, score: float) -> bool:
        """Whether a score passes this metric's threshold (direction-aware)."""
        return score >= self.threshold if self.higher_is_better else score <= self.threshold

    def quality(self, score: float) -> float:
        """The score turned so that higher is always better (for cross-metric views)."""
        return score if self.higher_is_better else 1.0 - score

    def render(
        self, input_text: str, output_text: str, context: str = "", expected: str = ""
    ) -> str:
        """The prompt with `{input}`, `{context}` (labelled conversation and tool-call blocks),
        `{expected_output}` and `{output}` filled (plain replace: prompts may hold braces)."""
        return (
            self.prompt.replace("{context}", context)
            .replace("{expected_output}", expected)
            .replace("{input}", input_text)
            .replace("{output}", output_text)
        )


class JudgeVerdict(BaseModel):
    """The judge's structured answer. Reasoning comes first so the model argues before scoring."""

    reasoning: str = Field(
        min_length=1,
        description="Step-by-step justification, written BEFORE deciding the score.",
    )
    score: float = Field(
        ge=0.0,
        le=1.0,
        description="The final score between 0.0 and 1.0, consistent with the reasoning.",
    )


class TraceRecord(BaseModel):
    """One agent interaction to grade, from Langfuse or from the database."""

    trace_id: str
    input: str
    output: str
    name: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    tags: list[str] = Field(default_factory=list)
    timestamp: datetime | None = None
    run_id: uuid.UUID | None = None
    has_langfuse_trace: bool = True
    # Structured parts for the judge's labelled blocks (when the source can tell them apart):
    # the user's latest request, the conversation before it, the tool calls with their outputs.
    request: str | None = None
    conversation: str = ""
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    # A dataset item's expected output (experiments): what reference-based metrics grade against.
    expected_output: str | None = None


class JudgeUsage(BaseModel):
    """Tokens and cost of one judge call (cost None when the model's price is unknown)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = 0.0


class JudgeResult(BaseModel):
    """A judge call's outcome: a verdict, not applicable, or an error, plus usage."""

    verdict: JudgeVerdict | None = None
    not_applicable: str | None = None  # why the metric does not apply (not a pass, not a fail)
    error: str | None = None
    usage: JudgeUsage = Field(default_factory=JudgeUsage)
    attempts: int = 1
    latency_ms: int = 0


class Judgment(BaseModel):
    """One (trace, metric) outcome as it goes into the report."""

    trace_id: str
    metric: str
    score: float | None = None
    passed: bool | None = None
    reasoning: str | None = None
    error: str | None = None
    not_applicable: bool = False
    usage: JudgeUsage = Field(default_factory=JudgeUsage)
    attempts: int = 1
    latency_ms: int = 0

    @property
    def ok(self) -> bool:
        """True when the judge produced a valid score."""
        return self.score is not None and self.error is None


class EvaluationOptions(BaseModel):
    """What to evaluate and how: shared by the CLI, the API job and `Evaluator`."""

    model_config = ConfigDict(extra="forbid")

    hours: float = Field(
        default=24.0, gt=0, le=24 * 366, description="Window size when `since` is unset."
    )
    since: datetime | None = None
    until: datetime | None = None
    tags: list[StorableText] = Field(default_factory=list, max_length=20)
    name: StorableText | None = Field(default=None, max_length=200)
    user: StorableText | None = Field(default=None, max_length=320)
    limit: int | None = Field(default=None, ge=1, le=1_000_000)
    metrics: list[StorableText] = Field(default_factory=list, max_length=50)
    rescore: bool = False
    judge: JudgeKind = Field(default_factory=lambda: settings.EVALUATION_JUDGE)
    source: SourceKind = "auto"
    concurrency: int = Field(default_factory=lambda: settings.EVALUATION_CONCURRENCY, ge=1, le=256)

    @model_validator(mode="after")
    def _window_is_ordered(self) -> "EvaluationOptions":
        if self.since and self.until and self.since >= self.until:
            raise ValueError("`since` must be earlier than `until`")
        return self


class EvaluationJobCreate(EvaluationOptions):
    """Options of an evaluation started from the API (the CLI's options, plus the report file)."""

    write_report: bool = Field(
        default=False, description="Also write the JSON report file on the server."
    )
