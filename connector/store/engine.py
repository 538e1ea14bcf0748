"""Engines for the state store: SQLite by default, any SQLAlchemy URL (PostgreSQL tested).

SQLite needs care because the daemon writes while the CLI reads the same file:

- WAL lets readers and the one writer work at the same time; ``synchronous=NORMAL`` is safe
  with WAL (a power cut may lose the last commits, never corrupt the file) and much faster.
- ``busy_timeout`` makes a second writer wait for the lock instead of failing at once.
- The stdlib driver's own transaction handling does not BEGIN before a SELECT, so the reads of
  a read-then-write step would run outside its transaction. SQLAlchemy emits BEGIN itself
  instead, and write transactions begin IMMEDIATE: they take the write lock up front, where
  ``busy_timeout`` applies, rather than failing when a deferred read lock cannot be upgraded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from connector.redact import MASK, SECRET_NAMES

__all__ = ["WRITE_OPTION", "create_store_engine", "default_sqlite_url", "redacted_url", "write_engine"]

# Execution option marking a connection that will write; see ``_begin_sqlite``.
WRITE_OPTION = "connector_write"

_SQLITE_PRAGMAS = (
    # busy_timeout first: switching to WAL itself needs a lock another process may hold.
    "PRAGMA busy_timeout=30000",
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
    # 64 MiB of page cache (default 2 MiB): bulk upserts touch indexes at random keys, and a
    # small cache turns each into disk reads. Measured: about a fifth less time in SQLite.
    "PRAGMA cache_size=-65536",
)


def default_sqlite_url(data_dir: Path) -> str:
    """The store's default location: ``sqlite:///<data_dir>/connector.db``."""
    return f"sqlite:///{Path(data_dir) / 'connector.db'}"


def redacted_url(url: str | URL) -> str:
    """``url`` as text with the password and secret-named query parameters masked."""
    parsed = make_url(url) if isinstance(url, str) else url
    query = {k: (MASK if k.lower() in SECRET_NAMES else v) for k, v in parsed.query.items()}
    rendered = parsed.set(query=query).render_as_string(hide_password=True)
    return rendered.replace(quote(MASK, safe=""), MASK)  # the URL renderer percent-encodes the mask


def create_store_engine(url: str) -> Engine:
    """Create the engine for a store URL.

    ``postgresql://`` and ``postgres://`` URLs use psycopg 3. SQLite files get WAL, foreign
    keys, ``synchronous=NORMAL`` and a 30 s busy timeout on every connection, and their parent
    directory is created if missing.

    Args:
        url: a SQLAlchemy database URL, e.g. ``sqlite:////var/lib/connector/connector.db``.

    Returns:
        An engine whose error messages never include statement parameters (customer data).
    """
    parsed = _normalise(make_url(url))
    if parsed.get_backend_name() == "sqlite":
        _make_parent_dir(parsed)
        engine = create_engine(parsed, hide_parameters=True)
        event.listen(engine, "connect", _connect_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    # pre_ping: the daemon holds pooled connections for days; a server restart must not break it.
    return create_engine(parsed, hide_parameters=True, pool_pre_ping=True)


def write_engine(engine: Engine) -> Engine:
    """A view of ``engine`` whose transactions are marked as writing (BEGIN IMMEDIATE on SQLite)."""
    return engine.execution_options(**{WRITE_OPTION: True})


def _normalise(url: URL) -> URL:
    if url.drivername in ("postgres", "postgresql"):
        return url.set(drivername="postgresql+psycopg")
    return url


def _make_parent_dir(url: URL) -> None:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    if in_memory or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _connect_sqlite(dbapi_connection: Any, _record: object) -> None:
    # None: the driver never BEGINs on its own; _begin_sqlite does (SQLAlchemy's documented recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    mode = "IMMEDIATE" if connection.get_execution_options().get(WRITE_OPTION) else "DEFERRED"
    connection.exec_driver_sql(f"BEGIN {mode}")
