"""Record and replay a run's model exchanges: the same run replays without a diff, a changed
prompt shows up as one."""

from pathlib import Path
from typing import Any

import pytest

from tests.resilience.conftest import stub_chain
from tests.support.transcript import Transcript
from tests.utils import API, create_item, create_user_and_login


async def _run(ac: Any, headers: dict[str, str]) -> dict[str, Any]:
    response = await ac.http.post(
        f"{API}/agent/run", json={"message": "show my items"}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_replay_matches_and_a_prompt_change_is_a_diff(
    agent_settings: Any,
    openai_stub: Any,
    app_client: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    agent_settings(**stub_chain(openai_stub))
    async with app_client() as ac:
        headers, user = await create_user_and_login(ac.http)
        await create_item(user.id, title="Copper pan")
        recorded_run = await _run(ac, headers)
        path = tmp_path / "show-my-items.json"
        Transcript.of(openai_stub).save(path)
        transcript = Transcript.load(path)
        assert len(transcript.exchanges) == 3  # planner, executor (tool call), executor (answer)
        assert transcript.exchanges[1]["reply"]["tool_calls"][0]["name"] == "lookup_user_items"

        transcript.replay(openai_stub)
        replayed_run = await _run(ac, headers)
        assert transcript.diff(openai_stub) == []
        assert replayed_run["response"] == recorded_run["response"]

        import app.agents.graph as graph

        monkeypatch.setattr(graph, "PLANNER_PROMPT", graph.PLANNER_PROMPT + "\nBe brief.")
        transcript.replay(openai_stub)
        await _run(ac, headers)
        diff = transcript.diff(openai_stub)
    assert any(line.startswith("+") and "Be brief." in line for line in diff), diff
