"""The helpers for "Langfuse never answers" and "Langfuse is down" tests."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.fakes.background import BlackHoleServer


def test_black_hole_accepts_and_never_answers(black_hole: BlackHoleServer) -> None:
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(black_hole.url, timeout=httpx.Timeout(0.3, connect=2.0))
    assert 0.3 <= time.monotonic() - started < 2.0
    assert black_hole.accepted == 1


def test_closed_port_refuses(closed_port_url: str) -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.get(closed_port_url, timeout=2.0)
