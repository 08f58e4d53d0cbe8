"""Guardrails around the agent: input rules before the planner, redaction of what comes back.

The default guardrail is rule-based and runs offline (`rules.RuleGuardrail`). Anything that
implements `Guardrail` (an LLM judge, an external moderation API) can be added to the engine:

    engine = GuardrailEngine([RuleGuardrail(policy), MyModerationGuard()])

Stages: `input` (the user's message; a guard may block it), `tool_output` (every tool result
before the model reads it; redaction only) and `output` (the final answer; redaction only).
A blocked input raises `GuardrailBlockedError` from the graph; the run layer maps it.
Streamed answer text goes through `stream.StreamRedactor`, which redacts it with the same guards
before any of it is sent.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from app.core.pii import EMAIL

if TYPE_CHECKING:
    from app.core.config import Settings

Stage = Literal["input", "tool_output", "output"]


class GuardrailBlockedError(Exception):
    """A guardrail refused the input: `rule` names the rule, `message` is safe to show the user."""

    def __init__(self, rule: str, message: str, stage: Stage = "input") -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.message = message
        self.stage = stage


@dataclass(frozen=True)
class GuardContext:
    """What a guard may know about the run: who runs it and the text the run has read."""

    user_id: str | None = None
    # User messages and tool outputs so far: an email found here was looked up, not leaked.
    seen_text: str = ""

    @cached_property
    def seen_emails(self) -> frozenset[str]:
        """The addresses in `seen_text`, lower-cased; once per context (a stream reuses it)."""
        return frozenset(m.group().lower() for m in EMAIL.finditer(self.seen_text))


@dataclass(frozen=True)
class Finding:
    """One rule that triggered."""

    rule: str
    stage: Stage
    detail: str = ""


@dataclass(frozen=True)
class GuardResult:
    """The text after the guard (redacted or unchanged), what triggered, and whether to block."""

    text: str
    findings: tuple[Finding, ...] = ()
    blocked: Finding | None = None


@runtime_checkable
class Guardrail(Protocol):
    """One guard. `check` returns the (possibly redacted) text, findings and a block decision;
    blocking is honoured at the `input` stage only (later stages redact)."""

    name: str

    async def check(self, stage: Stage, text: str, context: GuardContext) -> GuardResult: ...


@runtime_checkable
class StreamingGuardrail(Protocol):
    """A guard that can tell where a growing text may still turn into a match (optional)."""

    def settled_until(self, text: str) -> int:
        """The length of the prefix of `text` that no later characters can pull into a match."""
        ...


@dataclass
class GuardrailEngine:
    """Runs guards in order; the text flows through each; the first block wins."""

    guards: Sequence[Guardrail] = field(default_factory=list)

    async def run(
        self, stage: Stage, text: str, context: GuardContext, *, count: bool = True
    ) -> GuardResult:
        """Every guard in turn; `count=False` for trial runs that mustn't touch the metric."""
        findings: list[Finding] = []
        for guard in self.guards:
            result = await guard.check(stage, text, context)
            findings.extend(result.findings)
            text = result.text
            if result.blocked is not None and stage == "input":
                if result.blocked not in findings:
                    findings.append(result.blocked)
                if count:
                    _count(findings)
                return GuardResult(text, tuple(findings), result.blocked)
        if count:
            _count(findings)
        return GuardResult(text, tuple(findings))

    async def check_input(self, text: str, context: GuardContext) -> None:
        """Raise GuardrailBlockedError when a guard blocks the input."""
        result = await self.run("input", text, context)
        if result.blocked is not None:
            raise GuardrailBlockedError(result.blocked.rule, result.blocked.detail)

    async def redact(self, stage: Stage, text: str, context: GuardContext) -> str:
        """The text with whatever the guards redact at this stage."""
        return (await self.run(stage, text, context)).text

    def settled_until(self, text: str) -> int:
        """The prefix of a growing text that no guard expects later text to change."""
        return min([len(text), *(guard.settled_until(text) for guard in self._streaming)])

    @cached_property
    def _streaming(self) -> list[StreamingGuardrail]:
        # Once: a protocol isinstance check costs more than the rules it selects.
        return [guard for guard in self.guards if isinstance(guard, StreamingGuardrail)]


def _count(findings: list[Finding]) -> None:
    if not findings:
        return
    from app.core.metrics import guardrail_triggered  # lazy: settings import this package

    for finding in findings:
        guardrail_triggered(finding.rule, finding.stage)


def build_guardrails(config: "Settings") -> GuardrailEngine:
    """The default engine from settings (policy file + settings); empty when disabled."""
    if not config.AGENT_GUARDRAILS_ENABLED:
        return GuardrailEngine([])
    from app.agents.guardrails.rules import RuleGuardrail
    from app.core.guardrail_policy import load_policy

    policy = load_policy(
        config.AGENT_GUARDRAIL_POLICY_FILE, config.AGENT_GUARDRAIL_BLOCKED_PATTERNS
    )
    return GuardrailEngine(
        [
            RuleGuardrail(
                policy,
                max_input_chars=config.AGENT_MAX_INPUT_CHARS,
                blocked_terms=list(config.AGENT_GUARDRAIL_BLOCKED_TERMS),
            )
        ]
    )


__all__ = [
    "Finding",
    "GuardContext",
    "GuardResult",
    "Guardrail",
    "GuardrailBlockedError",
    "GuardrailEngine",
    "Stage",
    "StreamingGuardrail",
    "build_guardrails",
]
