"""Deployment checks read files and start their own servers: no per-test table reset needed."""

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def clean_db() -> Iterator[None]:
    """Overrides the suite-wide table reset (these tests never touch the test database)."""
    yield
