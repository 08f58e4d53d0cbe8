"""Record a run's model exchanges from an LLM stub, replay them, and diff the requests.

    transcript = Transcript.of(stub)          # after a run: what was asked, what was answered
    transcript.save(path)                     # JSON, reviewable in a pull request
    Transcript.load(path).replay(stub)        # the same answers, in order, for the next run
    transcript.diff(stub)                     # what the new run asked differently ([] = same)

A request is compared in a normalized form (model, messages as role + text + tool calls,
offered tools, forced tool), so a changed prompt, tool or graph shows up as a readable diff
while ids and client details don't.
"""

import difflib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.fakes.llm_script import ErrorReply, Reply, ToolCall


def normalize(body: dict[str, Any]) -> dict[str, Any]:
    """What of an OpenAI-style request matters to a reviewer."""
    messages = []
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        calls = [
            {"name": c["function"]["name"], "arguments": c["function"]["arguments"]}
            for c in message.get("tool_calls") or []
        ]
        messages.append(
            {"role": message.get("role"), "content": content or "", "tool_calls": calls}
        )
    choice = body.get("tool_choice")
    return {
        "model": body.get("model"),
        "stream": bool(body.get("stream")),
        "messages": messages,
        "tools": sorted(t["function"]["name"] for t in body.get("tools") or []),
        "forced_tool": choice["function"]["name"] if isinstance(choice, dict) else None,
    }


def _reply_json(reply: Reply | ErrorReply) -> dict[str, Any]:
    if isinstance(reply, ErrorReply):
        return {"error": asdict(reply)}
    calls = [{"name": c.name, "arguments": c.arguments_json()} for c in reply.tool_calls]
    return {"text": reply.text, "tool_calls": calls}


def _reply_from(data: dict[str, Any]) -> Reply | ErrorReply:
    if "error" in data:
        return ErrorReply(**data["error"])
    calls = [
        ToolCall(c["name"], c["arguments"], id=f"call_replay_{n}")
        for n, c in enumerate(data["tool_calls"])
    ]
    return Reply(text=data["text"], tool_calls=calls)


@dataclass
class Transcript:
    """The model exchanges of a run: normalized requests and the replies given."""

    exchanges: list[dict[str, Any]]

    @classmethod
    def of(cls, stub: Any) -> "Transcript":
        """What the stub was asked and answered since its last reset."""
        return cls(
            [{"request": normalize(b), "reply": _reply_json(r)} for b, r in stub.script.exchanges]
        )

    def save(self, path: Path) -> None:
        """Write the transcript as indented JSON."""
        path.write_text(json.dumps({"exchanges": self.exchanges}, indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> "Transcript":
        """Read a saved transcript."""
        return cls(json.loads(path.read_text())["exchanges"])

    def replay(self, stub: Any) -> None:
        """Queue the recorded replies, in order, for the next requests (and forget the old)."""
        stub.reset()
        stub.enqueue(*(_reply_from(e["reply"]) for e in self.exchanges))

    def diff(self, stub: Any) -> list[str]:
        """A unified diff of the recorded requests against the stub's since the replay."""
        recorded = [e["request"] for e in self.exchanges]
        now = [normalize(body) for body, _ in stub.script.exchanges]

        def lines(requests: list[dict[str, Any]]) -> list[str]:
            return json.dumps(requests, indent=2, sort_keys=True).splitlines()

        return list(
            difflib.unified_diff(lines(recorded), lines(now), "recorded", "replayed", lineterm="")
        )
