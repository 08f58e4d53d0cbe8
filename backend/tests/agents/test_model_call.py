"""The executor's model call: streamed answers' tool calls are parsed as strictly as plain ones."""

from langchain_core.messages import AIMessageChunk
from langchain_core.messages.tool import tool_call_chunk

from app.agents.model_call import strict_tool_calls


def chunks(*parts: tuple[str | None, str, str | None]) -> AIMessageChunk:
    """Chunks as a provider streams them, merged the way LangChain merges them."""
    merged = AIMessageChunk(content="")
    for name, args, call_id in parts:
        part = tool_call_chunk(name=name, args=args, id=call_id, index=0)
        merged = merged + AIMessageChunk(content="", tool_call_chunks=[part], id="m1")
    return merged


def test_valid_arguments_split_over_chunks_make_one_call() -> None:
    message = strict_tool_calls(chunks(("lookup", '{"item_', "c1"), (None, 'id": "x"}', None)))
    assert [(c["name"], c["args"], c["id"]) for c in message.tool_calls] == [
        ("lookup", {"item_id": "x"}, "c1")
    ]
    assert message.invalid_tool_calls == []


def test_arguments_that_only_parse_as_partial_json_are_invalid() -> None:
    merged = chunks(("lookup", "{not json", "c1"))
    assert merged.tool_calls[0]["args"] == {}  # LangChain's lenient reading of the stream
    message = strict_tool_calls(merged)
    assert message.tool_calls == []
    assert [(c["name"], c["args"]) for c in message.invalid_tool_calls] == [("lookup", "{not json")]


def test_empty_arguments_are_an_empty_object_and_non_objects_are_invalid() -> None:
    assert strict_tool_calls(chunks(("ping", "", "c1"))).tool_calls[0]["args"] == {}
    message = strict_tool_calls(chunks(("ping", "[1, 2]", "c2")))
    assert message.tool_calls == [] and message.invalid_tool_calls[0]["args"] == "[1, 2]"


def test_an_answer_without_tool_calls_is_kept_as_it_is() -> None:
    merged = AIMessageChunk(content="Hel", id="m1") + AIMessageChunk(content="lo", id="m1")
    message = strict_tool_calls(merged)
    assert message.text == "Hello"
    assert message.tool_calls == [] and message.invalid_tool_calls == []
