"""Small SQL helpers shared by the store's writers: the dialect's upsert, batching, id lookups."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Connection, Insert, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.base import ReadOnlyColumnCollection
from sqlalchemy.sql.elements import ColumnElement

from connector.errors import StateError

__all__ = ["CHUNK_SIZE", "Row", "chunked", "executemany", "lookup_ids", "upsert"]

# Rows per executemany and per IN (...) list: large enough to amortise round trips, and well
# under SQLite's 32,766 and PostgreSQL's 65,535 bound-parameter limits.
CHUNK_SIZE = 5_000

Row = dict[str, Any]  # statement parameters: only ever built and consumed inside this package
T = TypeVar("T")


def chunked(items: Iterable[T], size: int = CHUNK_SIZE) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``, without materialising the whole iterable."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def upsert(
    conn: Connection,
    table: Table,
    keys: Sequence[str],
    *,
    update: Iterable[str] | None = None,
    extra: Callable[[ReadOnlyColumnCollection[str, Any]], Mapping[str, ColumnElement[Any]]] | None = None,
    unless_older: str | None = None,
) -> sqlite.Insert | postgresql.Insert:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE`` in the connection's dialect.

    Args:
        conn: decides the dialect (SQLite or PostgreSQL).
        table: the table to write.
        keys: the unique key the conflict is on.
        update: columns taken from the new row on conflict; default: every column that is
            neither in ``keys`` nor part of the primary key (surrogate ids never change).
        extra: builds further ``SET`` expressions from the proposed row (``excluded``), e.g.
            ``lambda new: {"n": table.c.n + new.n}``.
        unless_older: a column (e.g. ``updated_at``): a proposed row older than the stored one by
            it is ignored, so a late or replayed page never brings back an old version.

    Raises:
        StateError: the database is neither SQLite nor PostgreSQL.
    """
    name = conn.dialect.name
    if name == "sqlite":
        stmt: sqlite.Insert | postgresql.Insert = sqlite.insert(table)
    elif name == "postgresql":
        stmt = postgresql.insert(table)
    else:
        raise StateError(f"the store supports SQLite and PostgreSQL, not {name}")
    if update is None:
        update = [c.name for c in table.columns if c.name not in keys and not c.primary_key]
    set_: dict[str, Any] = {column: stmt.excluded[column] for column in update}
    if extra is not None:
        set_.update(extra(stmt.excluded))
    where = stmt.excluded[unless_older] >= table.c[unless_older] if unless_older else None
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=set_, where=where)


def lookup_ids(conn: Connection, table: Table, source_ids: Collection[str]) -> dict[str, int]:
    """Map each of ``source_ids`` found in ``table`` to its integer id (batched, one query per chunk)."""
    found: dict[str, int] = {}
    for chunk in chunked(source_ids):
        query = select(table.c.source_id, table.c.id).where(table.c.source_id.in_(chunk))
        found.update({source_id: row_id for source_id, row_id in conn.execute(query)})
    return found


def executemany(conn: Connection, statement: Insert, rows: Sequence[Row]) -> None:
    """``conn.execute(statement, rows)``, with less per-row overhead on positional drivers (SQLite).

    SQLAlchemy's generic per-row parameter handling costs more than SQLite's own insert, so the
    statement is compiled once and each column's type conversion (money, UTC times, JSON) is
    applied directly. Drivers with named parameters (psycopg) and statements with parameters
    that are not row columns take the ordinary path.
    """
    if not rows:
        return
    keys = list(rows[0])
    compiled = statement.compile(dialect=conn.dialect, column_keys=keys)
    names = compiled.positiontup
    if not names or compiled.escaped_bind_names or not set(names) <= set(keys):
        conn.execute(statement, list(rows))
        return
    dialect = conn.dialect
    converters = [(name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names]
    params = [
        tuple(row[name] if convert is None else convert(row[name]) for name, convert in converters) for row in rows
    ]
    conn.exec_driver_sql(compiled.string, params)
