"""The ``store_url`` fixture of the store tests, loaded with ``pytest_plugins = ["conftest_store"]``.

Every store test runs on SQLite, and also on PostgreSQL when ``CONNECTOR_TEST_POSTGRES_URL``
names a server (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``); each PostgreSQL
test gets its own schema, dropped afterwards, so concurrent runs never collide.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.store.testing import postgres_schema_url, sqlite_store_url

POSTGRES_URL_VARIABLE = "CONNECTOR_TEST_POSTGRES_URL"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a private schema on the PostgreSQL test server."""
    if request.param == "sqlite":
        with sqlite_store_url(tmp_path) as url:
            yield url
        return
    server = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server:
        pytest.skip(f"PostgreSQL variant: set {POSTGRES_URL_VARIABLE}, "
                    "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with postgres_schema_url(server) as url:
        yield url
