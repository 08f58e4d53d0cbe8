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
    """A few-shot example shown to the judge."""

    input: str
    output: str
    reasoning: str
    score: float = Field(ge=0.0, le=1.0)


class MetricDefinition(BaseModel):
    """A metric loaded from a markdown prompt file (front matter + prompt body)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=METRIC_NAME_PATTERN)
    description: str = ""
    higher_is_better: bool = True
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    min_pass_rate: float = Field(default=0.8, ge=0.0, le=1.0)
    version: str = Field(default="1", max_length=64)  # the prompt version scores are keyed by
    examples: tuple[MetricExample, ...] = ()
    prompt: str = Field(min_length=1)
    path: Path | None = None

    @model_validator(mode="after")
    def _has_placeholders(self) -> "MetricDefinition":
        missing = [p for p in ("{input}", "{output}") if p not in self.prompt]
        if missing:
            raise ValueError(f"metric {self.name!r}: prompt lacks {', '.join(missing)}")
        return self

    def passed(self, score: float) -> bool:
        """Whether a score passes this metric's threshold (direction-aware)."""
        return score >= self.threshold if self.higher_is_better else score <= self.threshold

    def quality(self, score: float) -> float:
        """The score turned so that higher is always better (for cross-metric views)."""
        return score if self.higher_is_better else 1.0 - score

    def render(self, input_text: str, output_text: str) -> str:
        """The prompt with `{input}`/`{output}` filled (plain replace: prompts may hold braces)."""
        return self.prompt.replace("{input}", input_text).replace("{output}", output_text)


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


class JudgeUsage(BaseModel):
    """Tokens and cost of one judge call (cost None when the model's price is unknown)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = 0.0


class JudgeResult(BaseModel):
    """A judge call's outcome: a verdict or an error, plus usage."""

    verdict: JudgeVerdict | None = None
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
