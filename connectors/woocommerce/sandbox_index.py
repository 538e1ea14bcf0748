"""Sorted indexes that let the WooCommerce sandbox answer any page of a 500,000-order shop in milliseconds.

Built lazily from the shop's order columns (:mod:`connector.sandbox.columns`) and kept current by
:meth:`WooCommerceIndex.sync`, which each request calls first: it polls the shop for changed
records and moves each changed order in every index that holds it.

* orders of a set of statuses, sorted by ``(date_modified, id)``, ``(date_created, id)`` or id,
  as one ``array('q')`` each: ``seconds << 32 | key``, so a ``modified_after``/``modified_before``
  window is two bisections and a page is a slice (a few sets are kept, least recently used out);
* each customer's orders, and whether the customer ever paid (WooCommerce's sticky
  ``paying_customer`` flag);
* the customers as WordPress users (role, login, email, display name, registration time), read
  once from the shop because a customer's role (staff are shop managers) is not in any column;
  then sorted by id, registration or name, per role.
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_left, insort
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Literal

from connector.sandbox.columns import (
    ABSENT,
    FINANCIALS,
    STATUSES,
    ChangeFeed,
    OrderColumns,
    order_columns,
    seconds,
)
from connector.sandbox.records import ShopCustomer, ShopOrder
from connector.sandbox.shop import ShopState
from connectors.woocommerce.sandbox_ids import admin_email, display_name, username

__all__ = ["ADMIN_KEY", "PAID_STATUSES", "CustomerRow", "OrderSort", "UserSort", "WooCommerceIndex", "pack",
           "unpack_key"]

OrderSort = Literal["modified", "date", "id"]
UserSort = Literal["id", "registered_date", "name", "login"]
ADMIN_KEY = 0  # the administrator's row in the customer table (user 1)
# A customer paid once an order left the unpaid statuses with money taken (not just "pending" financially).
PAID_STATUSES = frozenset(STATUSES.index(s) for s in ("processing", "completed", "refunded", "cancelled"))
UNPAID_FINANCIAL = FINANCIALS.index("pending")
_KEY_BITS = 32
_KEY_MASK = (1 << _KEY_BITS) - 1
_CACHED_SETS = 12
_SCAN_CHUNK = 2_000


def pack(when: int, key: int) -> int:
    """A ``(seconds, key)`` position as one sortable integer."""
    return (when << _KEY_BITS) | key


def unpack_key(packed: int) -> int:
    return packed & _KEY_MASK


@dataclass(slots=True)
class CustomerRow:
    """What WordPress knows of a user without reading the customer: for filters and sorting."""

    role: str
    login: str
    email: str
    display: str
    registered: int  # seconds, see connector.sandbox.indexed.seconds


@dataclass
class _Users:
    rows: dict[int, CustomerRow]
    sorted: dict[tuple[str, UserSort], list[int]] = field(default_factory=dict)


class WooCommerceIndex:
    """The WooCommerce sandbox's indexes over one shop."""

    def __init__(self, shop: ShopState) -> None:
        self.shop = shop
        self.lock = threading.RLock()  # a served sandbox answers on uvicorn's thread, tests read on theirs
        self._columns: OrderColumns | None = None
        self._order_feed: ChangeFeed | None = None
        self._customer_feed: ChangeFeed | None = None
        self._orders: OrderedDict[tuple[frozenset[int], OrderSort], array] = OrderedDict()
        self._by_customer: dict[int, list[int]] | None = None
        self._paying: bytearray | None = None
        self._users: _Users | None = None

    def warm(self) -> None:
        """Build what the first requests would: order columns, the default and every-status order
        indexes by date and by modification, and the user table (seconds at 100,000 customers)."""
        every = frozenset(range(len(STATUSES)))
        default = frozenset(i for i, status in enumerate(STATUSES) if status != "checkout-draft")
        for statuses in (default, every):
            for by in ("date", "modified"):
                self.orders(statuses, by)  # type: ignore[arg-type]
        self.users("customer", "id")
        self.is_paying(0)

    def columns(self) -> OrderColumns:
        """Every order's columns, built on first use."""
        with self.lock:
            if self._columns is None:
                self._order_feed = ChangeFeed(self.shop, "orders")
                self._columns = order_columns(self.shop)
            return self._columns

    def sync(self) -> None:
        """Take in every change made to the shop since the last call (cheap when there is none)."""
        with self.lock:
            if self._order_feed is not None and self._columns is not None:
                changed = self._order_feed.poll()
                if changed is None:
                    self._forget_orders()
                else:
                    for order in changed:
                        if isinstance(order, ShopOrder):
                            self._order_changed(order)
            if self._customer_feed is not None and self._users is not None:
                changed = self._customer_feed.poll()
                if changed is None:
                    self._users, self._customer_feed = None, None
                    return
                for customer in changed:
                    if isinstance(customer, ShopCustomer):
                        row = _row(customer)
                        if self._users.rows.get(customer.key) != row:
                            self._users.rows[customer.key] = row
                            self._users.sorted.clear()

    def _forget_orders(self) -> None:
        self._columns = self._order_feed = self._by_customer = self._paying = None
        self._orders.clear()

    # -- orders --------------------------------------------------------------------------------------------
    def orders(self, statuses: frozenset[int], by: OrderSort) -> array:
        """Keys (``by="id"``) or packed positions of the orders in ``statuses``, ascending."""
        with self.lock:
            cache_key = (statuses, by)
            found = self._orders.get(cache_key)
            if found is not None:
                self._orders.move_to_end(cache_key)
                return found
            columns = self.columns()
            status = columns.status
            keys = [k for k in range(1, columns.max_key + 1) if status[k] in statuses]
            if by == "id":
                built = array("q", keys)
            else:
                times = columns.updated if by == "modified" else columns.created
                built = array("q", sorted((times[k] << _KEY_BITS) | k for k in keys))
            self._orders[cache_key] = built
            if len(self._orders) > _CACHED_SETS:
                self._orders.popitem(last=False)
            return built

    def orders_of(self, customer_key: int) -> list[int]:
        """Keys of the customer's orders (0: guest orders), ascending."""
        with self.lock:
            if self._by_customer is None:
                columns = self.columns()
                by: dict[int, list[int]] = {}
                owner, status = columns.customer, columns.status
                for key in range(1, columns.max_key + 1):
                    if status[key] != ABSENT:
                        by.setdefault(owner[key], []).append(key)
                self._by_customer = by
            return self._by_customer.get(customer_key, [])

    def is_paying(self, customer_key: int) -> bool:
        """Whether the customer ever had a paid order (WooCommerce never clears the flag)."""
        with self.lock:
            if self._paying is None:
                columns = self.columns()
                paying = bytearray(max(columns.customer, default=0) + 1)
                financial, owner = columns.financial, columns.customer
                for key in range(1, columns.max_key + 1):
                    if columns.status[key] in PAID_STATUSES and financial[key] != UNPAID_FINANCIAL:
                        paying[owner[key]] = 1
                self._paying = paying
            return 0 < customer_key < len(self._paying) and bool(self._paying[customer_key])

    # -- customers -----------------------------------------------------------------------------------------
    def user(self, key: int) -> CustomerRow | None:
        """The user row of customer ``key`` (``ADMIN_KEY``: the administrator), without reading every
        customer when the table is not built yet."""
        with self.lock:
            if self._users is not None:
                return self._users.rows.get(key)
            if key == ADMIN_KEY:
                return self._admin()
            customer = self.shop.get("customers", key)
            return _row(customer) if isinstance(customer, ShopCustomer) else None

    def _admin(self) -> CustomerRow:
        """The administrator registered a day before the first customer."""
        first = self.shop.scan("customers", order_by="created_at", limit=1)
        registered = seconds(first[0].created_at) if first else 0
        return CustomerRow("administrator", "admin", admin_email(self.shop.name), "admin", registered - 86_400)

    def users(self, role: str, by: UserSort) -> list[int]:
        """Customer keys with ``role`` (``all``: everyone, the administrator included), sorted ``by``."""
        with self.lock:
            table = self._user_table()
            cache_key = (role, by)
            found = table.sorted.get(cache_key)
            if found is None:
                rows = table.rows
                keys = [k for k, row in rows.items() if role in ("all", row.role)]
                if by == "id":
                    keys.sort()
                elif by == "registered_date":
                    keys.sort(key=lambda k: (rows[k].registered, k))
                elif by == "login":
                    keys.sort(key=lambda k: (rows[k].login.casefold(), k))
                else:
                    keys.sort(key=lambda k: (rows[k].display.casefold(), k))
                found = table.sorted[cache_key] = keys
            return found

    def _user_table(self) -> _Users:
        with self.lock:
            if self._users is None:
                self._customer_feed = ChangeFeed(self.shop, "customers")
                rows: dict[int, CustomerRow] = {}
                after: int | None = None
                while True:
                    batch = self.shop.scan("customers", order_by="key", after=after, limit=_SCAN_CHUNK)
                    for customer in batch:
                        if isinstance(customer, ShopCustomer):
                            rows[customer.key] = _row(customer)
                    if len(batch) < _SCAN_CHUNK:
                        break
                    after = batch[-1].key
                rows[ADMIN_KEY] = self._admin()
                self._users = _Users(dict(sorted(rows.items())))
            return self._users

    # -- keeping current -------------------------------------------------------------------------------------
    def _order_changed(self, order: ShopOrder) -> None:
        columns = self._columns
        assert columns is not None  # noqa: S101 - only called once the columns exist
        before = columns.row(order.key)
        columns.put(order)
        after = columns.row(order.key)
        if before == after:
            return  # an unchanged order seen again (it shares the latest instant)
        for (statuses, by), positions in self._orders.items():
            if before is not None and before[2] in statuses:
                _discard(positions, _position(before, order.key, by))
            if after is not None and after[2] in statuses:
                insort(positions, _position(after, order.key, by))
        if self._by_customer is not None:
            if before is not None and order.key in self._by_customer.get(before[4], ()):
                self._by_customer[before[4]].remove(order.key)
            insort(self._by_customer.setdefault(order.customer_key or 0, []), order.key)
        if self._paying is not None and after is not None and after[2] in PAID_STATUSES \
                and after[3] != UNPAID_FINANCIAL and after[4]:
            if after[4] >= len(self._paying):
                self._paying.extend(bytes(after[4] + 1 - len(self._paying)))
            self._paying[after[4]] = 1


def _row(customer: ShopCustomer) -> CustomerRow:
    return CustomerRow("shop_manager" if customer.is_staff else "customer", username(customer), customer.email,
                       display_name(customer), seconds(customer.created_at))


def _position(row: tuple[int, int, int, int, int], key: int, by: OrderSort) -> int:
    if by == "id":
        return key
    return pack(row[1] if by == "modified" else row[0], key)


def _discard(positions: array, position: int) -> None:
    i = bisect_left(positions, position)
    if i < len(positions) and positions[i] == position:
        del positions[i]

