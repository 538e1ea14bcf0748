"""Throw-away store databases for tests: a SQLite file, or a private PostgreSQL schema.

Nothing here imports pytest; test modules wrap these context managers in fixtures.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from connector.store.engine import create_store_engine, default_sqlite_url

__all__ = ["postgres_schema_url", "sqlite_store_url"]


@contextmanager
def sqlite_store_url(directory: Path) -> Iterator[str]:
    """The URL of a new SQLite store file in ``directory`` (which the caller cleans up)."""
    yield default_sqlite_url(directory / f"store-{uuid.uuid4().hex[:8]}")


@contextmanager
def postgres_schema_url(server_url: str) -> Iterator[str]:
    """A URL on ``server_url`` whose connections see only a new, uniquely named schema.

    The schema is created first and dropped with everything in it afterwards, so concurrent
    test runs on one server never see each other's tables.
    """
    schema = f"connector_test_{uuid.uuid4().hex[:12]}"  # hex only: safe to quote into DDL
    admin = create_store_engine(server_url)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        admin.dispose()

