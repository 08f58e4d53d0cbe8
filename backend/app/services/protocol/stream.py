"""A run's logged events as the Agent Protocol's stream events, for the modes a client asked for.

One log entry may become several protocol events (a node's update carries the messages that
`messages-tuple` sends one by one); they all carry the entry's id, so a client rejoining with
`Last-Event-ID` continues after the whole entry.
"""

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from app.services.runs.events import LoggedEvent


@dataclass(frozen=True)
class ProtocolEvent:
    """One Server-Sent Event of the protocol."""

    event: str
    data: Any
    id: str | None

    def encoded(self) -> str:
        """The `data:` line's JSON."""
        return json.dumps(self.data, separators=(",", ":"), ensure_ascii=False)


@dataclass
class ProtocolStream:
    """Translates one run's events for one client (it remembers what it has streamed)."""

    modes: frozenset[str]
    run_id: uuid.UUID
    thread_id: uuid.UUID
    streamed: dict[str, str] = field(default_factory=dict)  # message id → text so far

    def translate(self, logged: LoggedEvent) -> list[ProtocolEvent]:
        """The protocol events for one logged event (often none)."""
        data = json.loads(logged.data)
        handler = getattr(self, f"_on_{logged.type}", None)
        events: list[tuple[str, Any]] = handler(data) if handler is not None else []
        return [ProtocolEvent(name, payload, logged.id) for name, payload in events]

    def failure(self, code: str, message: str) -> list[ProtocolEvent]:
        """The events that end a stream the server could not finish."""
        return [ProtocolEvent("error", {"error": code, "message": message}, None)]

    def _meta(self, node: str) -> dict[str, Any]:
        return {
            "langgraph_node": node,
            "run_id": str(self.run_id),
            "thread_id": str(self.thread_id),
        }

    def _on_run_started(self, _data: dict[str, Any]) -> list[tuple[str, Any]]:
        return [("metadata", {"run_id": str(self.run_id), "attempt": 1})]

    def _on_state(self, data: dict[str, Any]) -> list[tuple[str, Any]]:
        mode, state = data["mode"], data["data"]
        events: list[tuple[str, Any]] = []
        if mode in self.modes:
            events.append((mode, state))
        if mode == "updates":
            for node, update in state.items():
                if isinstance(update, dict):
                    for message in update.get("messages") or []:
                        events.extend(self._message(node, message))
        return events

    def _message(self, node: str, message: dict[str, Any]) -> list[tuple[str, Any]]:
        """A whole message a node returned (tool calls, tool results, an unstreamed answer)."""
        if message.get("type") == "human":
            return []
        message_id = message.get("id") or ""
        streamed = message_id in self.streamed
        events: list[tuple[str, Any]] = []
        if "messages-tuple" in self.modes and not streamed:
            events.append(("messages", [message, self._meta(node)]))
        if "messages" in self.modes:
            if not streamed:
                events.append(("messages/metadata", {message_id: {"metadata": self._meta(node)}}))
            events.append(("messages/complete", [message]))
        return events

    def _on_token(self, data: dict[str, Any]) -> list[tuple[str, Any]]:
        message_id = data.get("message_id") or f"ai-{self.run_id}"
        first = message_id not in self.streamed
        self.streamed[message_id] = self.streamed.get(message_id, "") + data["text"]
        events: list[tuple[str, Any]] = []
        if "messages-tuple" in self.modes:
            chunk = {"type": "AIMessageChunk", "content": data["text"], "id": message_id}
            events.append(("messages", [chunk, self._meta("executor")]))
        if "messages" in self.modes:
            if first:
                meta = {message_id: {"metadata": self._meta("executor")}}
                events.append(("messages/metadata", meta))
            so_far = {"type": "ai", "content": self.streamed[message_id], "id": message_id}
            events.append(("messages/partial", [so_far]))
        return events

    def _on_plan(self, data: dict[str, Any]) -> list[tuple[str, Any]]:
        return [("custom", data)] if "custom" in self.modes else []

    def _on_run_completed(self, data: dict[str, Any]) -> list[tuple[str, Any]]:
        # A second `metadata` event, before `end`: how the run ended and who answered. SDK
        # clients hand every `metadata` event to the caller (`onMetadataEvent`, a StreamPart)
        # whatever the stream modes, unlike `custom`, the graph's own channel, which is only
        # sent when asked for.
        return [("metadata", run_outcome(self.run_id, data)), ("end", None)]

    def _on_error(self, data: dict[str, Any]) -> list[tuple[str, Any]]:
        return [("error", {"error": data["code"], "message": data["message"]}), ("end", None)]


def run_outcome(run_id: uuid.UUID, completed: dict[str, Any]) -> dict[str, Any]:
    """The closing `metadata` event of a run that completed: its status, `mode`
    (`normal`/`degraded`), `degraded_reason` and the model that answered."""
    return {
        "run_id": str(run_id),
        "attempt": 1,
        "status": completed.get("status"),
        "mode": completed.get("mode", "normal"),
        "degraded_reason": completed.get("degraded_reason"),
        "model": completed.get("model"),
    }
