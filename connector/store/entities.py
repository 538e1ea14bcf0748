"""Writing and reading customers, orders (with line items) and carts on one connection.

Writes go in chunks of :data:`~connector.store.sql.CHUNK_SIZE` records, each chunk a few
``executemany`` calls. A record never goes back to an older version: within a chunk the newest
by ``updated_at`` wins (the later one on a tie), and a stored row is only replaced by one at
least as new, so a replayed, overlapping or late page cannot undo a newer change.

Orders and carts refer to their customer by source id (``customer_ref``); the integer
``customer_id`` is resolved when the customer is already stored, and otherwise filled in by
the link step that runs when the customer arrives, so sources may deliver streams in any order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection, delete, insert, select, update

from connector.models import Cart, Customer, Order
from connector.store import rows
from connector.store.schema import carts, customers, line_items, orders
from connector.store.sql import chunked, executemany, lookup_ids, upsert

__all__ = ["get_cart", "get_customer", "get_order", "upsert_carts", "upsert_customers", "upsert_orders"]

RecordT = TypeVar("RecordT", Customer, Order, Cart)


def _latest(chunk: Sequence[RecordT]) -> list[RecordT]:
    """One version per record: the newest by ``updated_at`` (the later one on a tie)."""
    newest: dict[str, RecordT] = {}
    for record in chunk:
        kept = newest.get(record.id)
        if kept is None or record.updated_at >= kept.updated_at:
            newest[record.id] = record
    return list(newest.values())


def upsert_customers(conn: Connection, records: Iterable[Customer], now: datetime) -> int:
    """Insert or update customers by source id, then link their orders, line items and carts."""
    statement = upsert(conn, customers, ["source_id"], unless_older="updated_at")
    written = 0
    for chunk in chunked(records):
        batch = _latest(chunk)
        executemany(conn, statement, [rows.customer_row(customer, now) for customer in batch])
        _link(conn, [customer.id for customer in batch])
        written += len(batch)
    return written


def _link(conn: Connection, refs: list[str]) -> None:
    """Give orders, their line items and carts that name one of ``refs`` their customer's integer id.

    Rows are selected by ``customer_ref`` (indexed) and updated only where the stored id differs
    from the resolved one. "Differs" rather than "is NULL" on purpose: SQLite, without
    statistics, would otherwise read the ``customer_id`` index and visit every guest order.
    """
    for table in (orders, carts):
        resolved = select(customers.c.id).where(customers.c.source_id == table.c.customer_ref).scalar_subquery()
        conn.execute(
            update(table)
            .where(table.c.customer_ref.in_(refs), table.c.customer_id.is_distinct_from(resolved))
            .values(customer_id=resolved)
        )
    of_order = select(orders.c.customer_id).where(orders.c.id == line_items.c.order_id).scalar_subquery()
    conn.execute(
        update(line_items)
        .where(
            line_items.c.order_id.in_(select(orders.c.id).where(orders.c.customer_ref.in_(refs))),
            line_items.c.customer_id.is_distinct_from(of_order),
        )
        .values(customer_id=of_order)
    )


def upsert_orders(conn: Connection, records: Iterable[Order], now: datetime) -> int:
    """Insert or update orders by source id and replace their line items."""
    statement = upsert(conn, orders, ["source_id"], unless_older="updated_at")
    written = 0
    for chunk in chunked(records):
        batch = _latest(chunk)
        customer_ids = lookup_ids(conn, customers, {o.customer_id for o in batch if o.customer_id})
        resolved = [customer_ids.get(o.customer_id) if o.customer_id else None for o in batch]
        executemany(conn, statement, [rows.order_row(o, cid, now) for o, cid in zip(batch, resolved, strict=True)])
        order_ids = lookup_ids(conn, orders, [o.id for o in batch])
        # Replace rather than merge: a line removed at the source must disappear here too.
        conn.execute(delete(line_items).where(line_items.c.order_id.in_(list(order_ids.values()))))
        items = [
            row
            for o, cid in zip(batch, resolved, strict=True)
            for row in rows.line_item_rows(order_ids[o.id], cid, o.line_items)
        ]
        executemany(conn, insert(line_items), items)
        written += len(batch)
    return written


def upsert_carts(conn: Connection, records: Iterable[Cart], now: datetime) -> int:
    """Insert or update abandoned carts by source id."""
    statement = upsert(conn, carts, ["source_id"], unless_older="updated_at")
    written = 0
    for chunk in chunked(records):
        batch = _latest(chunk)
        customer_ids = lookup_ids(conn, customers, {c.customer_id for c in batch if c.customer_id})
        executemany(
            conn,
            statement,
            [rows.cart_row(c, customer_ids.get(c.customer_id) if c.customer_id else None, now) for c in batch],
        )
        written += len(batch)
    return written


def get_customer(conn: Connection, source_id: str) -> Customer | None:
    """The stored customer with this source id, if any."""
    row = conn.execute(select(customers).where(customers.c.source_id == source_id)).mappings().first()
    return None if row is None else rows.customer_from_row(row)


def get_order(conn: Connection, source_id: str) -> Order | None:
    """The stored order with this source id, with its line items in their original order."""
    row = conn.execute(select(orders).where(orders.c.source_id == source_id)).mappings().first()
    if row is None:
        return None
    items = conn.execute(
        select(line_items).where(line_items.c.order_id == row["id"]).order_by(line_items.c.position)
    ).mappings().all()
    return rows.order_from_row(row, items)


def get_cart(conn: Connection, source_id: str) -> Cart | None:
    """The stored cart with this source id, if any."""
    row = conn.execute(select(carts).where(carts.c.source_id == source_id)).mappings().first()
    return None if row is None else rows.cart_from_row(row)
