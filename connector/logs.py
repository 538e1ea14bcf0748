"""Structured logging.

Every line carries the pipeline, shop and run ids where known (set with :func:`log_context`,
which uses context variables, so concurrent pipelines in one daemon never mix them up). Lines
are JSON when ``--json`` is given or when stderr is not a terminal, and rich console lines
otherwise. Every line passes through a :class:`~connector.redact.Redactor` that knows the
configuration's secrets, so no token or key reaches a log, whatever the caller formatted.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Literal, TextIO

from connector.redact import Redactor

__all__ = ["CONTEXT_KEYS", "JsonFormatter", "RedactingFilter", "configure_logging", "log_context"]

CONTEXT_KEYS = ("pipeline", "shop", "esp", "run_id")
# An immutable default: a shared mutable dict would leak ids between contexts.
_context: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar(
    "connector_log_context", default=()
)

# LogRecord attributes that are not "extra" fields supplied by the caller.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


@contextlib.contextmanager
def log_context(**values: str | int | None) -> Iterator[None]:
    """Add ids to every log line emitted inside the block (and in tasks started from it)."""
    merged = {**dict(_context.get()), **{k: str(v) for k, v in values.items() if v is not None}}
    token = _context.set(tuple(merged.items()))
    try:
        yield
    finally:
        _context.reset(token)


class RedactingFilter(logging.Filter):
    """Attaches the context ids and redacts the message, arguments and extra fields."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get():
            if not hasattr(record, key):
                setattr(record, key, value)
        record.msg = self.redactor.text(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Format the traceback once, redacted; handlers then reuse exc_text.
            record.exc_text = self.redactor.text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self.redactor.text(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context ids, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value if isinstance(value, str | int | float | bool | None) else str(value)
        if record.exc_text:
            line["exc"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(
    *,
    level: str = "INFO",
    fmt: Literal["auto", "json", "console"] = "auto",
    redactor: Redactor | None = None,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Route the ``connector`` and ``connectors`` loggers to one redacting handler on stderr.

    Returns:
        The handler installed (replacing any earlier one from this function).
    """
    stream = stream or sys.stderr
    use_json = fmt == "json" or (fmt == "auto" and not stream.isatty())
    handler: logging.Handler
    if use_json:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter())
    else:
        from rich.console import Console
        from rich.logging import RichHandler

        handler = RichHandler(console=Console(file=stream), show_path=False, rich_tracebacks=False)
    handler.addFilter(RedactingFilter(redactor or Redactor()))
    handler.set_name("connector")
    for name in ("connector", "connectors"):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if h.get_name() == "connector"]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(level.upper())
        logger.propagate = False
    return handler
