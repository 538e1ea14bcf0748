"""Per-order columns of a shop, and a feed of what changed in it: for sandboxes that filter and count at scale.

:class:`~connector.sandbox.shop.ShopState` answers ordered scans, which is all a platform needs
until it filters on a field the scan does not know. WooCommerce filters orders by status (its
default ``any`` leaves out ``checkout-draft``) and reports exact totals for every query; building
500,000 orders to count the pending ones would take 20 seconds. So a sandbox keeps columns::

    columns = order_columns(shop)            # times, status, financial state, customer, per key
    feed = ChangeFeed(shop, "orders")        # then, before answering each request:
    changed = feed.poll()                    # the records changed since (None: rebuild everything)

The feed reads only the Protocol, so tests may change the shop any way they like (``shop.update``,
``shop.add``). It finds every change made at or after the latest ``updated_at`` it has seen, which
is how shops change (``at`` is the clock's now). Not seen: a record changed with an older ``at``
(unless it is a new one: then :meth:`ChangeFeed.poll` says to rebuild), and a record changed twice
at the very instant of the latest change.

For a :class:`~connector.sandbox.datagen.GeneratedShop` the columns come from the generator's own
index (compact arrays it already holds) instead of building every record; this module is the one
place outside the generator that reads that index.
"""

from __future__ import annotations

from array import array
from datetime import UTC, datetime, timedelta
from typing import get_args

from connector.sandbox.records import FinancialValue, ShopOrder, StatusValue
from connector.sandbox.shop import Kind, Record, ShopState

__all__ = ["ABSENT", "FINANCIALS", "STATUSES", "ChangeFeed", "OrderColumns", "order_columns", "seconds"]

STATUSES: tuple[StatusValue, ...] = get_args(StatusValue)
FINANCIALS: tuple[FinancialValue, ...] = get_args(FinancialValue)
ABSENT = 255  # status code of a key with no order
_BASE = datetime(2000, 1, 1, tzinfo=UTC)  # column times are seconds since then: small, and monotone packing
_SECOND = timedelta(seconds=1)
_MICRO = timedelta(microseconds=1)
_SCAN_CHUNK = 2_000


def seconds(when: datetime) -> int:
    """``when`` as whole seconds since 2000-01-01 UTC (floored), the unit of every column."""
    return (when - _BASE) // _SECOND


class OrderColumns:
    """Per order key (index 0 unused): created/updated seconds, status/financial codes, customer key.

    ``status[key]`` indexes :data:`STATUSES` (:data:`ABSENT` where no order has that key),
    ``financial[key]`` indexes :data:`FINANCIALS`, and ``customer[key]`` is 0 for a guest.
    """

    def __init__(self) -> None:
        self.created = array("q", [0])
        self.updated = array("q", [0])
        self.status = bytearray([ABSENT])
        self.financial = bytearray([0])
        self.customer = array("q", [0])

    @property
    def max_key(self) -> int:
        """The highest key a column has a row for."""
        return len(self.status) - 1

    def has(self, key: int) -> bool:
        """Whether an order with this key exists."""
        return 0 < key < len(self.status) and self.status[key] != ABSENT

    def row(self, key: int) -> tuple[int, int, int, int, int] | None:
        """``(created, updated, status, financial, customer)`` of an order, or None."""
        if not self.has(key):
            return None
        return (self.created[key], self.updated[key], self.status[key], self.financial[key], self.customer[key])

    def put(self, order: ShopOrder) -> None:
        """Make ``order`` the row of its key (growing the columns for a new key)."""
        key = order.key
        grow = key - self.max_key
        if grow > 0:
            self.created.extend([0] * grow)
            self.updated.extend([0] * grow)
            self.status.extend([ABSENT] * grow)
            self.financial.extend(bytes(grow))
            self.customer.extend([0] * grow)
        self.created[key] = seconds(order.created_at)
        self.updated[key] = seconds(order.updated_at)
        self.status[key] = STATUSES.index(order.status)
        self.financial[key] = FINANCIALS.index(order.financial)
        self.customer[key] = order.customer_key or 0


def order_columns(shop: ShopState) -> OrderColumns:
    """The columns of every order (from the generator's index when the shop is generated)."""
    return _generated_columns(shop) or _scanned_columns(shop)


class ChangeFeed:
    """The records of one kind changed since the last poll, found through :class:`ShopState` alone."""

    def __init__(self, shop: ShopState, kind: Kind) -> None:
        self.shop = shop
        self.kind = kind
        self._mark = self._snapshot(None)

    def _snapshot(self, latest: datetime | None) -> tuple[int, datetime | None, int]:
        """(how many records, the latest ``updated_at``, how many have it or later)."""
        if latest is None:
            newest = self.shop.scan(self.kind, order_by="updated_at", reverse=True, limit=1)
            latest = newest[0].updated_at if newest else None
        tail = self.shop.count(self.kind, updated_after=latest - _MICRO) if latest else 0
        return self.shop.count(self.kind), latest, tail

    def poll(self) -> list[Record] | None:
        """Records changed or added since the last poll (perhaps with unchanged ones from the same
        instant: compare before use), or None when a record was added with an older ``updated_at``."""
        count, latest, tail = self._mark
        if latest is None:
            self._mark = self._snapshot(None)
            return None if self._mark[0] != count else []
        if (self.shop.count(self.kind) == count and not self.shop.count(self.kind, updated_after=latest)
                and self.shop.count(self.kind, updated_after=latest - _MICRO) == tail):
            return []  # nothing newer than the latest change, and nothing new at its instant
        changed = self.shop.scan(self.kind, order_by="updated_at", updated_after=latest - _MICRO,
                                 limit=self.shop.count(self.kind) + 1)
        newest = max((r.updated_at for r in changed), default=latest)
        self._mark = self._snapshot(newest)
        known = self._mark[0] - count  # how many records were added
        fresh = sum(1 for r in changed if r.created_at >= latest)
        return None if known > fresh else changed


def _scanned_columns(shop: ShopState) -> OrderColumns:
    """Columns from reading every order (fine for the hand-built shops of tests)."""
    columns = OrderColumns()
    after: int | None = None
    while True:
        batch = shop.scan("orders", order_by="key", after=after, limit=_SCAN_CHUNK)
        for order in batch:
            if isinstance(order, ShopOrder):
                columns.put(order)
        if len(batch) < _SCAN_CHUNK:
            return columns
        after = batch[-1].key


def _generated_columns(shop: ShopState) -> OrderColumns | None:
    """Columns of a generated shop from its compact index, plus its changed and added orders."""
    from connector.sandbox.datagen import GeneratedShop  # heavy: only for generated shops

    if not isinstance(shop, GeneratedShop):
        return None
    from connector.sandbox.datagen_index import ORDER_CLASSES

    # The generator keeps every order's times, class and customer in arrays; reading them here
    # costs milliseconds, where building 500,000 orders through the Protocol costs 20 seconds.
    index = shop.index
    offset = seconds(shop.spec.start)
    status_of = bytearray(range(256))
    financial_of = bytearray(256)
    for code, (status, financial, _) in enumerate(ORDER_CLASSES):
        status_of[code] = STATUSES.index(status)
        financial_of[code] = FINANCIALS.index(financial)
    columns = OrderColumns()
    columns.created = array("q", [t + offset for t in index.orders.created])
    columns.updated = array("q", [t + offset for t in index.orders.updated])
    columns.status = index.order_class.translate(status_of)
    columns.financial = index.order_class.translate(financial_of)
    columns.customer = array("q", index.order_customer)
    columns.status[0], columns.created[0], columns.updated[0] = ABSENT, 0, 0
    for raw in shop.dump()["changes"].get("orders", ()):
        order = shop.get("orders", int(raw["key"]))
        if order is not None:
            columns.put(order)
    return columns
