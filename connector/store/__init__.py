"""The state store: synced customers, orders and carts, cursors, pushed state, runs, quarantine.

SQLAlchemy Core on SQLite by default (one file, WAL) or PostgreSQL, with versioned Alembic
migrations. :class:`Store` is the entry point::

    with Store.open(default_sqlite_url(data_dir)) as store:
        with store.transaction() as tx:
            tx.upsert_orders(page.records)
            tx.set_cursor(shop, "orders", page.cursor)
"""

from __future__ import annotations

from connector.store.engine import create_store_engine, default_sqlite_url, redacted_url
from connector.store.migrate import current_revision, ensure_current, head_revision, upgrade
from connector.store.pushed import PushedItem
from connector.store.records import PushedContact, QuarantinedRecord, RunKind, RunStatus, SyncRun
from connector.store.schema import metadata
from connector.store.store import Store, StoreOperations, Transaction

__all__ = [
    "PushedContact",
    "PushedItem",
    "QuarantinedRecord",
    "RunKind",
    "RunStatus",
    "Store",
    "StoreOperations",
    "SyncRun",
    "Transaction",
    "create_store_engine",
    "current_revision",
    "default_sqlite_url",
    "ensure_current",
    "head_revision",
    "metadata",
    "redacted_url",
    "upgrade",
]
