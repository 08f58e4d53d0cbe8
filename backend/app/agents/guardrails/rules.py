"""The default, rule-based guardrail: offline, deterministic, configured by the policy."""

import re

from app.agents.guardrails import Finding, GuardContext, GuardResult, Stage
from app.core.guardrail_policy import GuardrailPolicy
from app.core.pii import EMAIL, redact_secrets, unfinished_match_start

INPUT_TOO_LONG = "input_too_long"
SECRET = "secret"
UNSEEN_EMAIL = "unseen_email"
BLOCKED_TERM = "blocked_term"


class RuleGuardrail:
    """Input: size and blocked patterns. Output: secrets, unseen emails, blocked terms."""

    name = "rules"

    def __init__(
        self,
        policy: GuardrailPolicy,
        *,
        max_input_chars: int | None = None,
        blocked_terms: list[str] | None = None,
    ) -> None:
        limits = [n for n in (policy.input.max_chars, max_input_chars) if n is not None]
        self.max_input_chars = min(limits) if limits else None
        self.patterns = [
            (p.name, re.compile(p.pattern, re.IGNORECASE)) for p in policy.input.blocked_patterns
        ]
        terms = [*policy.output.blocked_terms, *(blocked_terms or [])]
        self.longest_term = max((len(t) for t in terms), default=0)
        self.terms = (
            re.compile("|".join(re.escape(t) for t in terms if t), re.IGNORECASE)
            if any(terms)
            else None
        )
        self.redact_secrets = policy.output.redact_secrets
        self.redact_unseen_emails = policy.output.redact_unseen_emails

    async def check(self, stage: Stage, text: str, context: GuardContext) -> GuardResult:
        if stage == "input":
            return self._check_input(text)
        return self._redact(stage, text, context)

    def settled_until(self, text: str) -> int:
        """The prefix of a growing answer that no later text can pull into a redaction."""
        end = len(text) - max(self.longest_term - 1, 0)
        if self.redact_secrets or self.redact_unseen_emails:
            end = min(end, unfinished_match_start(text))
        return max(end, 0)

    def _check_input(self, text: str) -> GuardResult:
        if self.max_input_chars is not None and len(text) > self.max_input_chars:
            finding = Finding(
                INPUT_TOO_LONG,
                "input",
                f"The message is longer than {self.max_input_chars} characters.",
            )
            return GuardResult(text, (finding,), finding)
        for name, pattern in self.patterns:
            if pattern.search(text):
                finding = Finding(name, "input", "The message was blocked by the content policy.")
                return GuardResult(text, (finding,), finding)
        return GuardResult(text)

    def _redact(self, stage: Stage, text: str, context: GuardContext) -> GuardResult:
        findings: list[Finding] = []
        if self.redact_secrets:
            text, kinds = redact_secrets(text, lambda kind: f"[redacted:{kind}]")
            findings += [Finding(SECRET, stage, kind) for kind in kinds]
        if self.redact_unseen_emails and stage == "output":

            def email(match: re.Match[str]) -> str:
                # Only an answer with an address scans the thread (long threads read a lot).
                if match.group().lower() in context.seen_emails:
                    return match.group()
                findings.append(Finding(UNSEEN_EMAIL, stage))
                return "[redacted:email]"

            text = EMAIL.sub(email, text)
        if self.terms is not None and stage == "output":

            def term(_match: re.Match[str]) -> str:
                findings.append(Finding(BLOCKED_TERM, stage))
                return "[redacted:blocked_term]"

            text = self.terms.sub(term, text)
        return GuardResult(text, tuple(findings))
