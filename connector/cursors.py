"""Timestamp cursors, the kind most streams keep: ISO 8601 UTC, whole seconds, ``Z`` suffix.

A cursor is opaque to the core (see :class:`~connector.protocols.Page`); sources whose position
is a moment in time share this one format, so a saved cursor reads the same everywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime

from connector.errors import StateError

__all__ = ["format_cursor", "parse_cursor"]


def format_cursor(moment: datetime) -> str:
    """A cursor: UTC, whole seconds (rounded down, so never later than ``moment``), ``Z`` suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_cursor(cursor: str | None, platform: str) -> datetime | None:
    """Read a cursor (or any ISO 8601 timestamp with an offset); ``None`` stays ``None``.

    Raises:
        StateError: the saved cursor is not a timezone-aware timestamp (``platform`` names whose).
    """
    if cursor is None:
        return None
    try:
        moment = datetime.fromisoformat(cursor.strip().replace("Z", "+00:00"))
    except ValueError:
        raise StateError(f"{platform} cursor {cursor!r} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise StateError(f"{platform} cursor {cursor!r} has no timezone")
    return moment.astimezone(UTC)
