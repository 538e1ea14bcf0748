"""The store's bookkeeping on one connection: stream cursors, sync runs and the quarantine."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import Connection, RowMapping, func, insert, null, select, update

from connector.errors import StateError
from connector.protocols import QuarantineEntry
from connector.store.records import QuarantinedRecord, RunKind, RunStatus, SyncRun
from connector.store.schema import cursors, quarantine, sync_runs
from connector.store.sql import chunked, executemany, upsert

__all__ = [
    "add_quarantine",
    "count_quarantine",
    "finish_run",
    "get_cursor",
    "list_quarantine",
    "recent_runs",
    "resolve_quarantine",
    "set_cursor",
    "start_run",
]

_WHOLE_RECORD = ""  # the stored ``field`` of an entry about the whole record; see schema.quarantine


# --------------------------------------------------------------------------- cursors


def get_cursor(conn: Connection, scope: str, stream: str) -> str | None:
    """The saved cursor of ``stream`` in ``scope`` (e.g. a shop), or ``None`` if never saved."""
    query = select(cursors.c.value).where(cursors.c.scope == scope, cursors.c.stream == stream)
    return conn.execute(query).scalar_one_or_none()


def set_cursor(conn: Connection, scope: str, stream: str, value: str, now: datetime) -> None:
    """Save the cursor of ``stream`` in ``scope``."""
    row = {"scope": scope, "stream": stream, "value": value, "updated_at": now}
    conn.execute(upsert(conn, cursors, ["scope", "stream"]), [row])


# --------------------------------------------------------------------------- runs


def start_run(conn: Connection, pipeline: str, kind: RunKind, now: datetime) -> int:
    """Record a run as started and return its id."""
    result = conn.execute(
        insert(sync_runs).values(
            pipeline=pipeline, kind=kind.value, started_at=now, status=RunStatus.RUNNING.value,
            counts={}, requests={},
        )
    )
    (run_id,) = result.inserted_primary_key or (None,)
    if run_id is None:
        raise StateError("the store did not return the new run's id")
    return int(run_id)


def finish_run(
    conn: Connection,
    run_id: int,
    status: RunStatus,
    counts: Mapping[str, int],
    requests: Mapping[str, int],
    error: str | None,
    now: datetime,
) -> None:
    """Record how a run ended.

    Raises:
        StateError: there is no run with this id.
    """
    result = conn.execute(
        update(sync_runs)
        .where(sync_runs.c.id == run_id)
        .values(finished_at=now, status=status.value, counts=dict(counts), requests=dict(requests), error=error)
    )
    if result.rowcount == 0:
        raise StateError(f"there is no sync run with id {run_id}")


def recent_runs(conn: Connection, pipeline: str | None, limit: int) -> list[SyncRun]:
    """The latest ``limit`` runs, newest first, of one pipeline or of all."""
    query = select(sync_runs).order_by(sync_runs.c.started_at.desc(), sync_runs.c.id.desc()).limit(limit)
    if pipeline is not None:
        query = query.where(sync_runs.c.pipeline == pipeline)
    return [SyncRun.model_validate(dict(row)) for row in conn.execute(query).mappings()]


# --------------------------------------------------------------------------- quarantine


def add_quarantine(
    conn: Connection, entries: Iterable[QuarantineEntry], run_id: int | None, now: datetime
) -> int:
    """Record entries; one already known (same entity, record, field) is seen again, not duplicated.

    Each sighting counts an occurrence; the latest one sets the reason, action and payload, and
    reopens the entry if it had been resolved: the record failed again.

    Returns:
        The number of distinct entries written.
    """
    statement = upsert(
        conn,
        quarantine,
        ["entity", "record_id", "field"],
        update=["reason", "action", "payload", "run_id", "last_seen"],
        extra=lambda new: {"occurrences": quarantine.c.occurrences + new.occurrences, "resolved_at": null()},
    )
    written = 0
    for chunk in chunked(entries):
        # One row per key and chunk: a multi-row INSERT ... ON CONFLICT may not hit a row twice.
        latest: dict[tuple[str, str, str], QuarantineEntry] = {}
        seen: Counter[tuple[str, str, str]] = Counter()
        for entry in chunk:
            key = (entry.entity, entry.record_id, entry.field or _WHOLE_RECORD)
            latest[key] = entry
            seen[key] += 1
        executemany(
            conn,
            statement,
            [
                {
                    "entity": entity,
                    "record_id": record_id,
                    "field": field,
                    "reason": entry.reason,
                    "action": entry.action,
                    "payload": entry.payload,
                    "run_id": run_id,
                    "first_seen": now,
                    "last_seen": now,
                    "occurrences": seen[(entity, record_id, field)],
                    "resolved_at": None,
                }
                for (entity, record_id, field), entry in latest.items()
            ],
        )
        written += len(latest)
    return written


def resolve_quarantine(conn: Connection, entity: str, record_ids: Iterable[str], now: datetime) -> int:
    """Mark the open entries of these records as resolved (they later passed); returns how many."""
    resolved = 0
    for chunk in chunked(record_ids):
        result = conn.execute(
            update(quarantine)
            .where(
                quarantine.c.entity == entity,
                quarantine.c.record_id.in_(chunk),
                quarantine.c.resolved_at.is_(None),
            )
            .values(resolved_at=now)
        )
        resolved += result.rowcount
    return resolved


def list_quarantine(conn: Connection, unresolved_only: bool, limit: int) -> list[QuarantinedRecord]:
    """Quarantine entries, most recently seen first."""
    query = select(quarantine).order_by(quarantine.c.last_seen.desc(), quarantine.c.id.desc()).limit(limit)
    if unresolved_only:
        query = query.where(quarantine.c.resolved_at.is_(None))
    return [_quarantined(row) for row in conn.execute(query).mappings()]


def count_quarantine(conn: Connection, unresolved_only: bool) -> int:
    """How many quarantine entries there are (open ones only, by default)."""
    query = select(func.count()).select_from(quarantine)
    if unresolved_only:
        query = query.where(quarantine.c.resolved_at.is_(None))
    return int(conn.execute(query).scalar_one())


def _quarantined(row: RowMapping) -> QuarantinedRecord:
    values = dict(row)
    values["field"] = values["field"] or None
    return QuarantinedRecord.model_validate(values)
