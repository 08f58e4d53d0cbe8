"""A minimal JSON instance of a JSON schema, so the stubs' auto mode can answer structured calls.

Hand-written: hypothesis-based generators are random and slow, and the benchmark path needs one
deterministic, minimal instance per call. It covers what pydantic and LangChain emit: $ref/$defs,
anyOf/oneOf/allOf, enum/const/default, the basic types, required properties only.
"""

from __future__ import annotations

from typing import Any

_STRING_FORMATS = {
    "email": "user@example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "uri": "https://example.com/",
}


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    node: Any = root
    for part in ref[2:].split("/"):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return _resolve(node, root) if isinstance(node, dict) else {}


def sample(schema: Any, root: dict[str, Any] | None = None) -> Any:
    """Return a small value valid against `schema` (required properties only)."""
    if not isinstance(schema, dict):
        return None
    root = root if root is not None else schema
    schema = _resolve(schema, root)
    if "default" in schema:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        options = [_resolve(option, root) for option in schema.get(key) or []]
        non_null = [option for option in options if option.get("type") != "null"]
        if options:
            return sample((non_null or options)[0], root)
    if schema.get("allOf"):
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in schema["allOf"]:
            part = _resolve(part, root)
            merged["properties"].update(part.get("properties") or {})
            merged["required"] += part.get("required") or []
        return sample(merged, root)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "string" or (kind is None and "minLength" in schema):
        return _STRING_FORMATS.get(schema.get("format", ""), "stub")
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1.0))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "array":
        count = max(int(schema.get("minItems", 1)), 1)
        return [sample(schema.get("items", {"type": "string"}), root) for _ in range(count)]
    properties = schema.get("properties") or {}
    required = schema.get("required") or []
    return {name: sample(properties.get(name, {}), root) for name in required}
