"""The fakes' fixtures, for the tests of the fakes themselves."""

from tests.fakes.fixtures import (  # noqa: F401
    anthropic_stub,
    anthropic_stub_server,
    black_hole,
    closed_port_url,
    langfuse_fake,
    langfuse_fake_server,
    openai_stub,
    openai_stub_server,
)
