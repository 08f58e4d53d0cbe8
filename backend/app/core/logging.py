"""Structured logging: JSON lines in staging/production, readable console locally.

With TELEMETRY_MASK_PII (default on in staging/production) every field of every line, exception
text included, goes through `app.core.pii` before it is rendered.
"""

import logging
import sys
import uuid
from typing import Any, TextIO

import structlog

from app.core.config import Settings
from app.core.pii import mask_log_event


def bind_log_context(**values: Any) -> None:
    """Add keys (user_id, run_id, trace_id, ...) to every later log line of this request/task."""
    structlog.contextvars.bind_contextvars(
        **{
            key: str(value) if isinstance(value, uuid.UUID) else value
            for key, value in values.items()
            if value is not None
        }
    )


def configure_logging(config: Settings, stream: TextIO | None = None) -> None:
    """Route stdlib and structlog records through one structlog pipeline (to stderr by default)."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if config.json_logs
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                *([mask_log_event] if config.mask_pii else []),
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(config.LOG_LEVEL.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger("httpx").setLevel(logging.WARNING)
