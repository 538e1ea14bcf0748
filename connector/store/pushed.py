"""What each ESP account last confirmed per person: the basis of the next diff."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import Connection, RowMapping, select
from sqlalchemy.sql.elements import ColumnElement

from connector.protocols import ContactState
from connector.store.records import PushedContact
from connector.store.schema import pushed_state
from connector.store.sql import chunked, executemany, upsert

__all__ = ["PushedItem", "get_pushed", "iter_pushed", "record_pushed"]

PushedItem = tuple[str, ContactState, str | None]  # (person_id, state, the ESP's contact id)

# Rows fetched per round trip when streaming; memory stays flat however many contacts a sink has.
_STREAM_BATCH = 1_000


def record_pushed(conn: Connection, sink: str, items: Iterable[PushedItem], now: datetime) -> int:
    """Insert or replace the pushed state of each person; returns how many were written."""
    statement = upsert(conn, pushed_state, ["sink", "person_id"])
    written = 0
    for chunk in chunked(items):
        # The last item for a person wins, as it would if they came one call at a time.
        latest = {person_id: (state, contact_id) for person_id, state, contact_id in chunk}
        executemany(
            conn,
            statement,
            [
                {
                    "sink": sink,
                    "person_id": person_id,
                    "email": state.email,
                    "contact_id": contact_id,
                    "state_hash": state.digest(),
                    "state": state.canonical_json(),
                    "pushed_at": now,
                }
                for person_id, (state, contact_id) in latest.items()
            ],
        )
        written += len(latest)
    return written


def get_pushed(conn: Connection, sink: str, person_id: str) -> PushedContact | None:
    """The last confirmed state of one person in one sink, if any."""
    query = select(pushed_state).where(pushed_state.c.sink == sink, pushed_state.c.person_id == person_id)
    row = conn.execute(query).mappings().first()
    return None if row is None else _pushed(row)


def iter_pushed(conn: Connection, sink: str) -> Iterator[PushedContact]:
    """Every pushed state of ``sink`` in ``person_id`` code-point order, streamed in batches.

    On PostgreSQL the rows come from a server-side cursor, so memory stays flat.
    """
    order: ColumnElement[str] = pushed_state.c.person_id
    if conn.dialect.name == "postgresql":
        # Code-point order, as SQLite's BINARY and Python's sorted(): a locale collation would
        # break a merge-join with a stream sorted in Python.
        order = order.collate("C")
    query = (
        select(pushed_state)
        .where(pushed_state.c.sink == sink)
        .order_by(order)
        .execution_options(yield_per=_STREAM_BATCH)
    )
    with conn.execute(query) as result:
        for row in result.mappings():
            yield _pushed(row)


def _pushed(row: RowMapping) -> PushedContact:
    return PushedContact(
        person_id=row["person_id"],
        email=row["email"],
        contact_id=row["contact_id"],
        state_hash=row["state_hash"],
        state=ContactState.model_validate_json(row["state"]),
        pushed_at=row["pushed_at"],
    )
