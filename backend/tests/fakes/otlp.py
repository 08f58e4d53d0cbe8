"""Decode OTLP/HTTP trace export requests (protobuf or JSON, optionally gzip) into plain spans."""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.json_format import ParseDict  # type: ignore[import-untyped]
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

Attributes = dict[str, Any]

_STATUS_NAMES = {0: "UNSET", 1: "OK", 2: "ERROR"}


class OtlpDecodeError(ValueError):
    """The request body is not a valid OTLP trace export."""


@dataclass
class SpanRecord:
    """One received span, ids as lowercase hex like the Langfuse API uses them."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    start_ns: int
    end_ns: int
    attributes: Attributes
    resource_attributes: Attributes = field(default_factory=dict)
    scope_name: str = ""
    status_code: str = "UNSET"
    status_message: str = ""


def _any_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, kind)


def _attributes(pairs: Any) -> Attributes:
    return {pair.key: _any_value(pair.value) for pair in pairs if isinstance(pair, KeyValue)}


def _hex_ids_to_base64(payload: dict[str, Any]) -> dict[str, Any]:
    """OTLP/JSON writes trace and span ids as hex, the protobuf JSON mapping expects base64."""
    for resource_spans in payload.get("resourceSpans") or []:
        for scope_spans in resource_spans.get("scopeSpans") or []:
            for span in scope_spans.get("spans") or []:
                for key in ("traceId", "spanId", "parentSpanId"):
                    raw = span.get(key)
                    if isinstance(raw, str) and raw:
                        try:
                            span[key] = base64.b64encode(bytes.fromhex(raw)).decode()
                        except ValueError as exc:
                            raise OtlpDecodeError(f"{key} is not hex: {raw!r}") from exc
    return payload


def parse_export_request(body: bytes, content_type: str, content_encoding: str) -> list[SpanRecord]:
    """Turn one POST /v1/traces body into span records."""
    if content_encoding.strip().lower() == "gzip":
        try:
            body = gzip.decompress(body)
        except OSError as exc:
            raise OtlpDecodeError("body is not valid gzip") from exc
    message = ExportTraceServiceRequest()
    media_type = content_type.split(";")[0].strip().lower()
    try:
        if media_type == "application/x-protobuf":
            message.ParseFromString(body)
        elif media_type == "application/json":
            payload = json.loads(body or b"{}")
            if not isinstance(payload, dict) or "resourceSpans" not in payload:
                raise OtlpDecodeError("JSON body needs a resourceSpans array")
            ParseDict(_hex_ids_to_base64(payload), message, ignore_unknown_fields=True)
        else:
            raise OtlpDecodeError(f"unsupported content type {content_type!r}")
    except (DecodeError, json.JSONDecodeError, ValueError) as exc:
        if isinstance(exc, OtlpDecodeError):
            raise
        raise OtlpDecodeError(str(exc)) from exc
    return list(_spans(message))


def _spans(message: ExportTraceServiceRequest) -> Any:
    for resource_spans in message.resource_spans:
        resource_attributes = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                if len(span.trace_id) != 16 or len(span.span_id) != 8:
                    raise OtlpDecodeError("span needs a 16-byte traceId and an 8-byte spanId")
                yield SpanRecord(
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    parent_span_id=span.parent_span_id.hex() or None,
                    name=span.name,
                    start_ns=span.start_time_unix_nano,
                    end_ns=span.end_time_unix_nano,
                    attributes=_attributes(span.attributes),
                    resource_attributes=resource_attributes,
                    scope_name=scope_spans.scope.name,
                    status_code=_STATUS_NAMES.get(span.status.code, "UNSET"),
                    status_message=span.status.message,
                )
