"""A shop whose orders are also kept as columns, so a sandbox can filter, count and page them at scale.

:class:`ShopState` answers ordered scans, which is all a platform needs until it filters on a
field the scan does not know. WooCommerce filters orders by status (``status=pending,failed``,
and its default ``any`` leaves out ``checkout-draft``) and reports exact totals for every query;
building 500,000 orders to count the pending ones would take 20 seconds. :class:`IndexedShop`
wraps a shop, forwards every call to it, and keeps per-order columns (times, status, financial
state, customer) current as the shop is changed through it::

    shop = IndexedShop(GeneratedShop(spec))
    columns = shop.order_columns()                 # built once, then kept current
    columns.status[key], columns.updated[key]
    shop.subscribe(lambda kind, before, after: ...)  # for indexes derived from the columns
    shop.update("orders", 7, at, status="completed")  # columns and subscribers follow

Change the shop through the wrapper: changes made on the wrapped object directly are not seen.

For a :class:`~connector.sandbox.datagen.GeneratedShop` the columns come from the generator's own
index (compact arrays it already holds) instead of building every record; this module is the one
place outside the generator that reads that index.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

from connector.sandbox.records import FinancialValue, Product, ShopOrder, StatusValue
from connector.sandbox.shop import Kind, OrderBy, Record, ShopState

__all__ = ["ABSENT", "FINANCIALS", "STATUSES", "IndexedShop", "OrderColumns", "Listener", "seconds"]

STATUSES: tuple[StatusValue, ...] = get_args(StatusValue)
FINANCIALS: tuple[FinancialValue, ...] = get_args(FinancialValue)
ABSENT = 255  # status code of a key with no order
_BASE = datetime(2000, 1, 1, tzinfo=UTC)  # column times are seconds since then: small, and monotone packing
_SECOND = timedelta(seconds=1)
_SCAN_CHUNK = 2_000

Listener = Callable[[Kind, Record | None, Record], None]


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


class IndexedShop:
    """A :class:`ShopState` forwarding to ``inner`` that keeps :class:`OrderColumns` of it current."""

    def __init__(self, inner: ShopState) -> None:
        self.inner = inner
        self.lock = threading.RLock()  # a served sandbox reads on uvicorn's thread while a test mutates
        self.version = 0  # counts changes made through the wrapper
        self._orders: OrderColumns | None = None
        self._listeners: list[Listener] = []

    def __repr__(self) -> str:
        return f"IndexedShop({self.inner!r})"

    def __getattr__(self, name: str) -> Any:
        # Anything beyond the Protocol (a generated shop's ``spec``) is the wrapped shop's.
        return getattr(self.inner, name)

    # -- the ShopState Protocol, forwarded ----------------------------------------------------------
    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def base_currency(self) -> str:
        return self.inner.base_currency

    @property
    def catalog(self) -> tuple[Product, ...]:
        return self.inner.catalog

    def count(self, kind: Kind, *, updated_after: datetime | None = None,
              updated_before: datetime | None = None) -> int:
        return self.inner.count(kind, updated_after=updated_after, updated_before=updated_before)

    def get(self, kind: Kind, key: int) -> Any:
        return self.inner.get(kind, key)  # type: ignore[call-overload]

    def scan(self, kind: Kind, *, order_by: OrderBy = "key", after: tuple[datetime, int] | int | None = None,
             updated_after: datetime | None = None, updated_before: datetime | None = None, reverse: bool = False,
             limit: int = 50) -> list[Record]:
        return self.inner.scan(kind, order_by=order_by, after=after, updated_after=updated_after,
                               updated_before=updated_before, reverse=reverse, limit=limit)

    def orders_of(self, customer_key: int) -> list[ShopOrder]:
        return self.inner.orders_of(customer_key)

    def update(self, kind: Kind, key: int, at: datetime, **changes: Any) -> Record:
        """Change a record (see :meth:`ShopState.update`); columns and subscribers follow."""
        with self.lock:
            before = self.inner.get(kind, key)  # type: ignore[call-overload]
            after = self.inner.update(kind, key, at, **changes)
            self._changed(kind, before, after)
            return after

    def add(self, kind: Kind, at: datetime, **fields: Any) -> Record:
        """Create a record (see :meth:`ShopState.add`); columns and subscribers follow."""
        with self.lock:
            after = self.inner.add(kind, at, **fields)
            self._changed(kind, None, after)
            return after

    def dump(self) -> Mapping[str, Any]:
        return self.inner.dump()

    # -- columns and subscribers ---------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(kind, before, after)`` after every change made through this wrapper."""
        self._listeners.append(listener)

    def order_columns(self) -> OrderColumns:
        """The order columns, built on first use (from the generator's index when there is one)."""
        with self.lock:
            if self._orders is None:
                self._orders = _generated_columns(self.inner) or _scanned_columns(self.inner)
            return self._orders

    def _changed(self, kind: Kind, before: Record | None, after: Record) -> None:
        self.version += 1
        if kind == "orders" and self._orders is not None and isinstance(after, ShopOrder):
            self._orders.put(after)
        for listener in self._listeners:
            listener(kind, before, after)


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
    index = shop._index  # see the module docstring
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
