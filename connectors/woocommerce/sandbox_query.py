"""Which records a ``/customers`` or ``/orders`` request gets: filters, order, page, and the totals.

A query starts from the narrowest sorted index that fits (an order window on ``date_modified`` is
two bisections of the status set's index; ``include`` and ``customer`` start from their short key
lists), applies the remaining filters from columns (building a record only for ``search`` and
``product``), then pages. Semantics are WordPress's and WooCommerce's:

* date bounds are strict (``after``/``before`` on ``date_created``, ``modified_*`` on
  ``date_modified``) and compare whole seconds; a naive date is site-local unless
  ``dates_are_gmt``; ties in every order fall back to the id, in the same direction;
* orders: ``status=any`` (the default) is every status but ``checkout-draft``; ``offset``
  overrides ``page``; a page past the end reports a total of 0 (HPOS);
* customers: ``role=customer`` by default; ``offset`` counts only when not 0; totals stay true
  past the end.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from connector.sandbox.columns import STATUSES, seconds
from connector.sandbox.records import ShopOrder
from connector.sandbox.shop import ShopState
from connectors.woocommerce.sandbox_ids import customer_key, order_id, order_key
from connectors.woocommerce.sandbox_index import CustomerRow, OrderSort, UserSort, WooCommerceIndex, pack, unpack_key
from connectors.woocommerce.sandbox_params import parse_wp_date

__all__ = ["Selection", "select_customers", "select_orders"]

_ANY = frozenset(i for i, status in enumerate(STATUSES) if status != "checkout-draft")
_ORDER_SORT: dict[str, OrderSort] = {"date": "date", "title": "date", "include": "date", "modified": "modified",
                                     "id": "id", "slug": "id"}
_USER_SORT: dict[str, UserSort] = {"id": "id", "registered_date": "registered_date", "name": "name",
                                   "include": "login"}
_FAR = 1 << 30  # seconds: beyond any date a column holds
_KEY_MAX = (1 << 32) - 1
Window = tuple[int, int]


@dataclass(frozen=True)
class Selection:
    """One page of a collection: its keys in response order, the totals, and the page links count from."""

    keys: list[int]
    total: int
    pages: int
    page: int


def _pages(total: int, per_page: int) -> int:
    return math.ceil(total / per_page) if per_page else 0


# -- orders ------------------------------------------------------------------------------------------------
def status_codes(statuses: Sequence[str]) -> frozenset[int]:
    """WooCommerce's reading of ``status``: ``any`` stops the list; ``trash`` matches no order here."""
    codes: set[int] = set()
    for status in statuses:
        if status == "any":
            return _ANY
        if status in STATUSES:
            codes.add(STATUSES.index(status))
    return frozenset(codes)


def _window(after: str | None, before: str | None, gmt: bool, tz: ZoneInfo) -> Window | None:
    """Strict bounds in column seconds: ``lo < t < hi``."""
    if after is None and before is None:
        return None
    return (_seconds(after, gmt, tz) if after else -_FAR, _seconds(before, gmt, tz) if before else _FAR)


def _seconds(value: str, gmt: bool, tz: ZoneInfo) -> int:
    parsed = parse_wp_date(value)
    assert parsed is not None  # noqa: S101 - validated with the parameters
    when, has_offset = parsed
    if not has_offset:
        when = when.replace(tzinfo=UTC if gmt else tz)
    return seconds(when)


def select_orders(shop: ShopState, index: WooCommerceIndex, values: dict[str, Any], given: frozenset[str],
                  tz: ZoneInfo) -> Selection:
    """The page of orders a validated ``GET /orders`` asks for."""
    with index.lock:
        columns = index.columns()
        statuses = status_codes(values["status"])
        gmt = bool(values["dates_are_gmt"])
        created = _window(values["after"], values["before"], gmt, tz)
        modified = _window(values["modified_after"], values["modified_before"], gmt, tz)
        sort = _ORDER_SORT[values["orderby"]]
        by_include = values["orderby"] == "include" and bool(values["include"])
        checks: list[Callable[[int], bool]] = []
        keys: Sequence[int]
        if values["include"] or values["customer"] is not None:
            if values["include"]:
                keys = list(dict.fromkeys(k for k in map(order_key, values["include"]) if k and columns.has(k)))
                if values["customer"] is not None:
                    owned = set(_customer_orders(index, values["customer"]))
                    keys = [k for k in keys if k in owned]
            else:
                keys = _customer_orders(index, values["customer"])
            checks.append(lambda k: columns.status[k] in statuses)
            keys = _sorted_keys(keys, sort, columns, values["include"] if by_include else None)
            bounded: tuple[Window | None, Window | None] = (created, modified)
        else:
            positions = index.orders(statuses, sort)
            lo, hi = 0, len(positions)
            bound = modified if sort == "modified" else created if sort == "date" else None
            if bound is not None:
                lo = bisect_right(positions, pack(bound[0], _KEY_MAX))
                hi = max(lo, bisect_left(positions, pack(bound[1], 0)))
            keys = _Keys(positions, lo, hi, sort != "id")
            bounded = (None if sort == "date" else created, None if sort == "modified" else modified)
        if bounded[0] is not None:
            lo_c, hi_c = bounded[0]
            checks.append(lambda k: lo_c < columns.created[k] < hi_c)
        if bounded[1] is not None:
            lo_m, hi_m = bounded[1]
            checks.append(lambda k: lo_m < columns.updated[k] < hi_m)
        checks += _order_filters(shop, values)
        # ORDER BY FIELD(id, …) takes no direction: include order stays as given.
        return _page(keys, checks, values, given, desc=values["order"] == "desc" and not by_include, orders=True)


def _customer_orders(index: WooCommerceIndex, user_id: int) -> list[int]:
    if user_id == 0:
        return index.orders_of(0)
    key = customer_key(user_id)
    return index.orders_of(key) if key >= 1 else []


def _sorted_keys(keys: Sequence[int], sort: OrderSort, columns: Any, include: Sequence[int] | None) -> list[int]:
    if include is not None:
        rank = {order_key(oid): i for i, oid in reversed(list(enumerate(include)))}
        return sorted(keys, key=lambda k: rank[k])
    if sort == "id":
        return sorted(keys)
    times = columns.updated if sort == "modified" else columns.created
    return sorted(keys, key=lambda k: (times[k], k))


def _order_filters(shop: ShopState, values: dict[str, Any]) -> list[Callable[[int], bool]]:
    checks: list[Callable[[int], bool]] = []
    excluded = {k for k in map(order_key, values["exclude"]) if k}
    if excluded:
        checks.append(lambda k: k not in excluded)
    if values["parent"] and 0 not in values["parent"]:
        checks.append(lambda k: False)  # every order here is a top-level order (parent 0)
    if 0 in values["parent_exclude"]:
        checks.append(lambda k: False)
    product = values["product"]
    if product:
        checks.append(lambda k: any(line.product.product_id == product for line in _order(shop, k).lines))
    term = (values["search"] or "").casefold()
    if term:
        checks.append(lambda k: _order_matches(_order(shop, k), term))
    return checks


def _order(shop: ShopState, key: int) -> ShopOrder:
    order = shop.get("orders", key)
    assert isinstance(order, ShopOrder)  # noqa: S101 - keys come from the shop's own columns
    return order


def _order_matches(order: ShopOrder, term: str) -> bool:
    """HPOS search: the order id, the buyer's email and the products' names."""
    if term == str(order_id(order.key)) or term in order.email.casefold():
        return True
    return any(term in line.product.title.casefold() for line in order.lines)


class _Keys(Sequence[int]):
    """Keys of ``positions[lo:hi]`` without copying (positions are packed unless ``packed`` is False)."""

    def __init__(self, positions: Sequence[int], lo: int, hi: int, packed: bool) -> None:
        self.positions, self.lo, self.hi, self.packed = positions, lo, hi, packed

    def __len__(self) -> int:
        return self.hi - self.lo

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if not 0 <= i < len(self):
            raise IndexError(i)
        value = self.positions[self.lo + i]
        return unpack_key(value) if self.packed else value


def _page(keys: Sequence[int], checks: list[Callable[[int], bool]], values: dict[str, Any], given: frozenset[str],
          *, desc: bool, orders: bool) -> Selection:
    if checks:
        keys = [k for k in keys if all(check(k) for check in checks)]
    per_page, page = values["per_page"], values["page"]
    offset = values["offset"]
    uses_offset = "offset" in given if orders else bool(offset)
    start = offset if uses_offset else (page - 1) * per_page
    total = len(keys)
    if desc:
        end = total - start
        chosen = [keys[i] for i in range(end - 1, max(end - per_page, 0) - 1, -1)] if end > 0 else []
    else:
        chosen = list(keys[start:start + per_page])
    if not orders and uses_offset:
        page = math.ceil(offset / per_page + 1)
    if orders and not chosen:
        return Selection([], 0, 0, page)  # HPOS counts nothing for a page past the end
    return Selection(chosen, total, _pages(total, per_page), page)


# -- customers ---------------------------------------------------------------------------------------------
def select_customers(index: WooCommerceIndex, values: dict[str, Any], given: frozenset[str]) -> Selection:
    """The page of customers (WordPress users; key 0 is the administrator) a ``GET /customers`` asks for."""
    role = values["role"]
    orderby = values["orderby"]
    include = [customer_key(uid) for uid in values["include"] if uid >= 1]
    checks: list[Callable[[int], bool]] = []
    keys: list[int]
    if include:
        rows = {k: index.user(k) for k in dict.fromkeys(include)}
        present = {k: row for k, row in rows.items() if row is not None and role in ("all", row.role)}
        keys = list(present) if orderby == "include" else sorted(present, key=_user_order(orderby, present))
    else:
        keys = index.users(role, _USER_SORT[orderby])
    excluded = {customer_key(uid) for uid in values["exclude"]}
    if excluded:
        checks.append(lambda k: k not in excluded)
    email = (values["email"] or "").casefold().rstrip()
    search = "" if email else (values["search"] or "").strip("*").casefold()
    if email:
        checks.append(lambda k: _row(index, k).email.casefold().rstrip() == email)
    elif search:
        checks.append(lambda k: _user_matches(_row(index, k), k, search))
    return _page(keys, checks, values, given, desc=values["order"] == "desc", orders=False)


def _user_order(orderby: str, rows: dict[int, CustomerRow]) -> Callable[[int], Any]:
    if orderby == "registered_date":
        return lambda k: (rows[k].registered, k)
    if orderby == "name":
        return lambda k: (rows[k].display.casefold(), k)
    return lambda k: k


def _row(index: WooCommerceIndex, key: int) -> CustomerRow:
    row = index.user(key)
    assert row is not None  # noqa: S101 - keys come from the user table
    return row


def _user_matches(row: CustomerRow, key: int, term: str) -> bool:
    """``WP_User_Query`` search with ``*term*``: the columns depend on what the term looks like."""
    if "@" in term:
        return term in row.email.casefold()
    if term.isdigit():
        return term in row.login.casefold() or term == str(key + 1)
    if term.startswith(("http://", "https://")):
        return False  # no user has a website here
    return any(term in text.casefold() for text in (row.login, row.email, row.display))

