"""Redaction of streamed text: a chunk is released only once no later chunk can change it.

    redactor = StreamRedactor(engine, "output", context)
    for chunk in chunks:
        send(await redactor.feed(chunk))
    send(await redactor.flush())

What is released, joined, equals the engine's redaction of the whole text, so the client sees
the same answer streamed or not and never a piece of a secret that the redaction removes.
The last HOLD_BACK_CHARS are always held; a cut is also refused when it would split a match
(the parts redact differently than the whole) or fall after where a guard's `settled_until`
says a match may still be growing (an unclosed private key, a token still arriving).
"""

from app.agents.guardrails import GuardContext, GuardrailEngine, Stage

# Held back: a secret split over chunks is only recognisable whole (every bounded rule is shorter).
HOLD_BACK_CHARS = 128
# Release at least this much at a time: each release redacts the held text again, and each
# token event costs a log write and an SSE frame.
MIN_RELEASE_CHARS = 16


class StreamRedactor:
    """Redacts text arriving in chunks; `feed` and `flush` return what is safe to send."""

    def __init__(
        self,
        engine: GuardrailEngine,
        stage: Stage,
        context: GuardContext,
        hold_back: int = HOLD_BACK_CHARS,
        min_release: int = MIN_RELEASE_CHARS,
    ) -> None:
        self.engine = engine
        self.stage = stage
        self.context = context
        self.hold_back = hold_back
        self.min_release = min_release
        self._pending = ""

    async def feed(self, chunk: str) -> str:
        """Add a chunk; return the redacted text that can no longer change (often empty)."""
        self._pending += chunk
        pending, least = self._pending, max(self.min_release, 1)
        if len(pending) - self.hold_back < least:
            return ""
        cut = min(len(pending) - self.hold_back, self.engine.settled_until(pending))
        if cut < least:
            return ""
        head, tail = pending[:cut], pending[cut:]
        whole = await self._redact(pending)
        if whole == pending:
            released = head  # nothing to redact: no match can span the cut
        else:
            released = await self._redact(head)
            # A cut inside a match redacts differently in two parts than in one: wait for more.
            if released + await self._redact(tail) != whole:
                return ""
        self._pending = tail
        return released

    async def flush(self) -> str:
        """The redacted rest, at the end of the stream."""
        rest, self._pending = self._pending, ""
        return await self._redact(rest) if rest else ""

    async def _redact(self, text: str) -> str:
        # Not counted: the whole answer is redacted (and counted) once when it is complete.
        return (await self.engine.run(self.stage, text, self.context, count=False)).text
