"""Staged SQL on one connection: temporary tables, typed parameters, and the few dialect differences.

Identity and metrics are computed as a sequence of ``INSERT ... SELECT`` statements, each
writing a temporary table keyed by person (or customer) that the next one joins with a cheap
key lookup. The performance notes of the segmentation core explain why: one statement that
left-joins onto a window-function result got an O(n²) plan on SQLite, and PostgreSQL also
prefers small staged steps.

Join order: on SQLite, ``a CROSS JOIN b`` keeps ``a`` as the outer loop (SQLite's documented
way to fix the order); PostgreSQL treats it as an ordinary inner join and plans it itself. The
statements use it where the natural plan matters: scan the big table once in storage order and
look each row's person up by integer key, instead of probing the big table once per person.

Everything else is portable SQL, apart from the snippets below (SQLite first, then PostgreSQL):

=====================  ==========================================  ===================================
snippet                SQLite                                      PostgreSQL
=====================  ==========================================  ===================================
new person id          ``lower(hex(randomblob(10)))``              ``md5(random()/clock_timestamp())``
UTC calendar day       ``substr(t, 1, 10)`` (stored UTC text)      ``CAST(timezone('UTC', t) AS date)``
days as a number       ``julianday(t)``                            ``EXTRACT(EPOCH FROM t) / 86400``
round half up          ``CAST(x + 0.5 AS INTEGER)``                ``CAST(FLOOR(x + 0.5) AS BIGINT)``
JSON array elements    ``json_each(col)``                          ``jsonb_array_elements_text(col)``
code-point text order  ``BINARY`` (the default)                    ``COLLATE "C"``
=====================  ==========================================  ===================================

Table and column names passed in are the callers' constants, never data (hence the ``noqa: S608``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, CursorResult, Date, bindparam, text
from sqlalchemy.types import TypeEngine

from connector.errors import StateError
from connector.store.coltypes import UtcDateTime
from connector.store.sql import chunked

__all__ = ["Staging"]

_BIND = re.compile(r"(?<![:\w]):(\w+)")  # text()'s own rule for a named parameter
SORT_CACHE_KIB = -262144  # PRAGMA cache_size in KiB when negative: 256 MiB while staging
Param = str | int | float | bool | date | datetime | None | Collection[str] | Collection[int]


def _bind_type(value: object) -> TypeEngine[Any] | None:
    if isinstance(value, datetime):  # before date: a datetime is a date
        return UtcDateTime()
    if isinstance(value, date):
        return Date()
    return None


class Staging:
    """Run staged SQL on ``conn`` and drop the temporary tables it created when closed."""

    def __init__(self, conn: Connection) -> None:
        name = conn.dialect.name
        if name not in ("sqlite", "postgresql"):
            raise StateError(f"the store supports SQLite and PostgreSQL, not {name}")
        self.conn = conn
        self.postgres = name == "postgresql"
        self._temps: list[str] = []
        self._restore: list[str] = []
        if not self.postgres:
            self._tune_sqlite()

    # ------------------------------------------------------------------ running

    def run(self, sql: str, params: Mapping[str, Param] | None = None) -> CursorResult[Any]:
        """Execute ``sql`` with named parameters; lists expand to ``IN`` lists, datetimes bind as UTC."""
        statement = text(sql)
        used = set(_BIND.findall(sql))
        binds = []
        for key, value in (params or {}).items():
            if key not in used:  # one parameter set serves many statements
                continue
            if isinstance(value, list | tuple | set | frozenset):
                binds.append(bindparam(key, list(value), expanding=True))
            else:
                binds.append(bindparam(key, value, type_=_bind_type(value)))
        return self.conn.execute(statement.bindparams(*binds))

    def count(self, sql: str, params: Mapping[str, Param] | None = None) -> int:
        """The integer the one-row, one-column query ``sql`` returns."""
        return int(self.run(sql, params).scalar_one() or 0)

    def temp(self, name: str, columns: str, *, clustered: bool = False) -> None:
        """(Re)create the empty temporary table ``name`` with ``columns`` (DDL inside the parentheses).

        ``clustered``: on SQLite, store the rows in primary-key order (``WITHOUT ROWID``), so a
        table filled in key order is read back grouped by key without sorting.
        """
        self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        suffix = " WITHOUT ROWID" if clustered and not self.postgres else ""
        self.conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({columns}){suffix}")
        if name not in self._temps:
            self._temps.append(name)

    def exists(self, name: str) -> bool:
        """Whether this staging created the temporary table ``name``."""
        return name in self._temps

    def fill(self, name: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        """Insert plain values (no type conversion) into the temporary table ``name``, in chunks."""
        placeholders = ", ".join(f":{column}" for column in columns)
        statement = text(f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({placeholders})")  # noqa: S608
        for chunk in chunked(rows):
            self.conn.execute(statement, [dict(zip(columns, row, strict=True)) for row in chunk])

    def analyze(self, *names: str) -> None:
        """Give PostgreSQL's planner the size of freshly filled temporary tables (SQLite needs none)."""
        if self.postgres:
            for name in names:
                self.conn.exec_driver_sql(f"ANALYZE {name}")

    def _tune_sqlite(self) -> None:
        """More memory for SQLite's sorter, and a helper thread, while staging (restored on close).

        Staged steps sort millions of rows (GROUP BY); a sort that fits the page cache is done in
        memory instead of being spilled to temporary files and merged back.
        """
        for pragma, value in (("cache_size", SORT_CACHE_KIB), ("threads", 2)):
            current = self.conn.exec_driver_sql(f"PRAGMA {pragma}").scalar_one()
            self._restore.append(f"PRAGMA {pragma} = {int(current)}")
            self.conn.exec_driver_sql(f"PRAGMA {pragma} = {value}")

    def close(self) -> None:
        """Drop every temporary table this object created, and restore the connection's settings."""
        for name in reversed(self._temps):
            self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        self._temps.clear()
        for pragma in self._restore:
            self.conn.exec_driver_sql(pragma)
        self._restore.clear()

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ dialect snippets

    def new_person_id(self) -> str:
        """An expression for a fresh ``prs_`` + 20 hex digits key (random: never derived from the email)."""
        if self.postgres:
            return "'prs_' || substr(md5(CAST(random() AS text) || CAST(clock_timestamp() AS text)), 1, 20)"
        return "'prs_' || lower(hex(randomblob(10)))"

    def utc_day(self, column: str) -> str:
        """The UTC calendar day of a stored timestamp, comparable and sortable."""
        if self.postgres:
            return f"CAST(timezone('UTC', {column}) AS date)"
        return f"substr({column}, 1, 10)"

    def days(self, column: str) -> str:
        """A stored timestamp as a number of days (only differences are meaningful)."""
        if self.postgres:
            return f"(EXTRACT(EPOCH FROM {column}) / 86400.0)"
        return f"julianday({column})"

    def round_half_up(self, expression: str) -> str:
        """A non-negative number rounded half up to an integer."""
        if self.postgres:
            return f"CAST(FLOOR({expression} + 0.5) AS BIGINT)"
        return f"CAST({expression} + 0.5 AS INTEGER)"

    def as_float(self, expression: str) -> str:
        return f"CAST({expression} AS DOUBLE PRECISION)"

    def json_elements(self, column: str, alias: str) -> str:
        """A join clause giving one row per element of the JSON text array ``column`` as ``alias.value``."""
        if self.postgres:
            return f"CROSS JOIN LATERAL jsonb_array_elements_text(CAST({column} AS jsonb)) AS {alias}(value)"
        return f"CROSS JOIN json_each({column}) AS {alias}"

    def json_quantity_sum(self, column: str) -> str:
        """The sum of ``quantity`` over the objects of the JSON text array ``column`` (cart items)."""
        if self.postgres:
            return (f"(SELECT SUM(CAST(j.value ->> 'quantity' AS integer)) "  # noqa: S608
                    f"FROM jsonb_array_elements(CAST({column} AS jsonb)) AS j(value))")
        return f"(SELECT SUM(json_extract(j.value, '$.quantity')) FROM json_each({column}) AS j)"  # noqa: S608

    def unindexed(self, column: str) -> str:
        """``column`` in a condition SQLite must not drive an index with (its documented unary ``+``).

        E.g. guest orders found by email: ``o.customer_id IS NULL`` would otherwise make SQLite
        walk every guest order through the customer index instead of the email index.
        """
        return column if self.postgres else f"+{column}"

    def text_order(self, column: str) -> str:
        """``column`` sorted by code point on both engines (ties broken "alphabetically", reproducibly)."""
        return f'{column} COLLATE "C"' if self.postgres else column
