"""What a streamed run sends: LF-framed Server-Sent Events, counted in events and bytes."""

import json

from tests.utils import API


async def test_a_streamed_hello_run_is_lf_framed(client, normal_user_token_headers) -> None:
    body = b""
    async with client.stream(
        "POST",
        f"{API}/agent/run/stream",
        json={"message": "hello"},
        headers=normal_user_token_headers,
    ) as response:
        assert response.status_code == 200
        async for chunk in response.aiter_bytes():
            body += chunk
    assert b"\r" not in body  # LF only: what hand-written parsers split on
    events = [block for block in body.decode().split("\n\n") if block.strip()]
    parsed = []
    for block in events:
        fields = dict(line.split(": ", 1) for line in block.split("\n") if not line.startswith(":"))
        assert set(fields) <= {"id", "event", "data"}, block
        data = json.loads(fields["data"])
        assert data["type"] == fields["event"]
        parsed.append(data["type"])
    assert parsed[0] == "run_started" and parsed[-1] == "run_completed"
    print(f"\n'hello' streamed: {len(parsed)} events, {len(body)} bytes: {parsed}")
