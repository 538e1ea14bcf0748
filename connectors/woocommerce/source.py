"""The WooCommerce :class:`~connector.protocols.Source`: customers, orders and abandoned checkouts.

WooCommerce runs on the merchant's own, often small, server. We read it from outside (no plugin,
no WP-Cron), at most ``concurrency`` requests at a time, and never re-read what did not change,
except the periodic customer rescan explained below.

**Orders** are incremental on ``date_modified`` (``modified_after`` with ``dates_are_gmt=true``,
read in keyset time windows by :mod:`connectors.woocommerce.windows`, ``overlap`` behind the
cursor; re-read orders are harmless, the store keeps the newest version). ``status`` is
WooCommerce's default ``any``: every status, including plugins' custom ones, except
``checkout-draft`` (a block-checkout draft is not an order; it is read as a cart) and ``trash``.
A guest order (``customer_id`` 0) makes its buyer a customer keyed by billing email; that
customer travels on the orders page (:attr:`Page.customers`), with the order's consent evidence.

**Customers** cannot be filtered by modification time (the API has no such parameter and ignores
``modified_after``). So:

1. a full scan by id (:func:`~connectors.woocommerce.idscan.scan_by_id`) on the first run and
   then every ``customer_full_scan_hours`` (default 24 h): 1 request per 100 customers;
2. in between, accounts created since the last run, newest first, until a known id;
3. and a customer whose order changed is re-read with that order: on increments, each orders
   page re-reads its registered buyers in one ``include=`` request, so an address or name
   changed at checkout arrives with the order.

What only the rescan catches is a profile edited in *My account* or by an admin without any
order; it arrives within ``customer_full_scan_hours``. The customers cursor is a small JSON
object: when the last full scan started and the highest id seen.

**Carts**: WooCommerce has no abandoned-cart API. An order left ``pending``, ``failed`` or
``checkout-draft``, or ``cancelled`` without ever being paid (WooCommerce's "hold stock" timer
cancels unpaid orders), is an abandoned checkout once it has not changed for ``cart_delay_minutes``.
The carts cursor never passes ``now - cart_delay``, so an order still inside its delay is read again
later. On increments every changed order is looked at: one that was paid after sitting unpaid for
at least the delay closes its cart (``completed_at`` = when it was paid): a recovered cart.

**Cursors** are ISO 8601 UTC timestamps (orders, carts) capped at the run's start less a skew
margin; they advance only over records already yielded (see :class:`~connectors.woocommerce.windows.Batch`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import httpx

from connector.clock import Clock
from connector.cursors import format_cursor
from connector.cursors import parse_cursor as parse_timestamp
from connector.errors import RecordError, StateError
from connector.models import Cart, Customer, Order
from connector.protocols import Page, QuarantineEntry, Stream
from connector.quarantine import normalize_batch, raw_payload
from connector.ratelimit import RateLimiter
from connectors.woocommerce.client import WooCommerceClient, record_ids
from connectors.woocommerce.idscan import by_ids, newer_than, scan_by_id
from connectors.woocommerce.models import WooCustomer, WooOrder, parse_items
from connectors.woocommerce.normalize import (
    NormalizeOptions,
    guest_customer,
    is_cart,
    normalize_cart,
    normalize_customer,
    normalize_order,
)
from connectors.woocommerce.settings import WooCommerceSettings
from connectors.woocommerce.windows import modified_windows, parse_gmt

__all__ = ["CLOCK_SKEW", "CustomerCursor", "WooCommerceSource", "format_cursor", "parse_cursor"]

CLOCK_SKEW = timedelta(seconds=10)  # our clock may run ahead of the shop's
CART_STATUSES = "pending,failed,checkout-draft,cancelled"
# Every core status, drafts included: on increments a cart may have turned into a paid order.
ALL_STATUSES = "pending,processing,on-hold,completed,cancelled,refunded,failed,checkout-draft"
_CUSTOMER_PARAMS = {"role": "all"}  # every account that can buy, not only role "customer"




def parse_cursor(cursor: str | None) -> datetime | None:
    """Read a woocommerce timestamp cursor; ``None`` stays ``None``.

    Raises:
        StateError: the saved cursor is not a timezone-aware ISO 8601 timestamp.
    """
    return parse_timestamp(cursor, "woocommerce")


@dataclass(frozen=True)
class CustomerCursor:
    """Where the customers stream stands: when the last full scan started, the highest id seen."""

    scanned_at: datetime
    max_id: int

    def dump(self) -> str:
        return json.dumps({"full_scan": format_cursor(self.scanned_at), "max_id": self.max_id}, sort_keys=True)

    @classmethod
    def load(cls, cursor: str | None) -> CustomerCursor | None:
        """Raises: StateError: not a customers cursor."""
        if cursor is None:
            return None
        try:
            data = json.loads(cursor)
            scanned = parse_cursor(data["full_scan"])
            max_id = int(data["max_id"])
        except (ValueError, KeyError, TypeError):
            raise StateError(f"woocommerce customers cursor {cursor!r} is not what this version writes") from None
        if scanned is None:
            raise StateError(f"woocommerce customers cursor {cursor!r} has no full_scan time")
        return cls(scanned, max_id)


class WooCommerceSource:
    """One WooCommerce shop as a :class:`~connector.protocols.Source`.

    Args:
        name: the shop's name in config; the ``<shop>`` part of every id.
        settings: the shop's settings.
        clock: wall time for cursors, the cart delay and OAuth timestamps; the sleep pacing waits on.
        transport: an httpx transport (tests, in-process sandboxes).
        limiter: a shared request limiter for the shop, if the caller has one.
        per_page: records per request (at most 100, WordPress's limit).
    """

    def __init__(
        self,
        name: str,
        settings: WooCommerceSettings,
        *,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        per_page: int = 100,
    ) -> None:
        if not 1 <= per_page <= 100:
            raise ValueError("per_page must be between 1 and 100 (WordPress refuses more)")
        self.name = name
        self.settings = settings
        self.client = WooCommerceClient(settings, account=name, transport=transport, clock=clock, limiter=limiter)
        self.options = NormalizeOptions.from_settings(settings)
        self._clock = clock
        self._per_page = per_page
        self._overlap = timedelta(minutes=settings.overlap_minutes)
        self._rescan = timedelta(hours=settings.customer_full_scan_hours)

    async def check(self) -> str:
        """For ``connector check``: the keys may read customers and orders."""
        customers = await self.client.list("customers", {"per_page": 1})
        await self.client.list("orders", {"per_page": 1})
        return f"{self.settings.url}: customers and orders readable ({customers.total} customers)"

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self.client.aclose()

    # ------------------------------------------------------------------ customers

    async def iter_customers(self, since: str | None) -> AsyncIterator[Page[Customer]]:
        """Every customer (a full scan), or those created since the cursor; see the module docstring."""
        state = CustomerCursor.load(since)
        run_start = self._clock.now()
        if state is None or run_start - state.scanned_at >= self._rescan:
            max_id = 0
            async for items in scan_by_id(self.client, "customers", params=_CUSTOMER_PARAMS,
                                          per_page=self._per_page, concurrency=self.settings.concurrency):
                max_id = max([max_id, *record_ids(items)])
                yield self._customers_page(items)
            cursor = CustomerCursor(run_start - CLOCK_SKEW, max(max_id, state.max_id if state else 0))
        else:
            max_id = state.max_id
            async for items in newer_than(self.client, "customers", state.max_id, params=_CUSTOMER_PARAMS,
                                          per_page=self._per_page):
                max_id = max([max_id, *record_ids(items)])
                yield self._customers_page(items)
            cursor = CustomerCursor(state.scanned_at, max_id)
        yield Page[Customer](stream=Stream.CUSTOMERS, cursor=cursor.dump())

    def _customers_page(self, items: list[dict[str, Any]]) -> Page[Customer]:
        raws, bad = parse_items(items, WooCustomer, self.name)
        records, quarantined = normalize_batch(raws, partial(normalize_customer, options=self.options), self.name)
        return Page[Customer](stream=Stream.CUSTOMERS, records=tuple(records),
                              quarantined=(*_rejected(bad), *quarantined))

    # ------------------------------------------------------------------ orders

    async def iter_orders(self, since: str | None) -> AsyncIterator[Page[Order]]:
        """Orders modified after cursor ``since`` (``None``: all), with their guest buyers."""
        previous = parse_cursor(since)
        end = self._clock.now() - CLOCK_SKEW
        start = previous - self._overlap if previous else None
        async for batch in modified_windows(self.client, "orders", start=start, end=end, per_page=self._per_page,
                                            concurrency=self.settings.concurrency):
            raws, bad = parse_items(batch.items, WooOrder, self.name)
            records, quarantined = normalize_batch(raws, partial(normalize_order, options=self.options), self.name)
            customers, customer_issues = self._guests(raws)
            if previous is not None:  # increments: re-read the registered buyers of changed orders
                registered = {raw.customer_id for raw in raws if raw.customer_id and raw.customer_id > 0}
                if registered:
                    items = await by_ids(self.client, "customers", registered, params=_CUSTOMER_PARAMS,
                                         per_page=self._per_page)
                    page = self._customers_page(items)
                    customers.extend(page.records)
                    customer_issues.extend(page.quarantined)
            yield Page[Order](
                stream=Stream.ORDERS, records=tuple(records),
                quarantined=(*_rejected(bad), *quarantined, *customer_issues),
                cursor=_cursor(batch.low_water, previous), customers=tuple(customers),
            )

    def _guests(self, raws: Iterable[WooOrder]) -> tuple[list[Customer], list[QuarantineEntry]]:
        customers: list[Customer] = []
        issues: list[QuarantineEntry] = []
        for raw in raws:
            try:
                guest = guest_customer(raw, self.name, self.options)
            except RecordError as error:
                issues.append(QuarantineEntry.from_error(error, payload=raw_payload(raw)))
                continue
            if guest is not None:
                customers.append(guest)
                issues.extend(QuarantineEntry.from_issue("customer", guest.id, issue) for issue in guest.issues)
        return customers, issues

    # ------------------------------------------------------------------ carts

    async def iter_carts(self, since: str | None) -> AsyncIterator[Page[Cart]]:
        """Unpaid orders abandoned for at least the cart delay, and recovered carts; see the module docstring."""
        previous = parse_cursor(since)
        now = self._clock.now()
        end = now - CLOCK_SKEW - self.options.cart_delay
        start = previous - self._overlap if previous else None
        statuses = CART_STATUSES if previous is None else ALL_STATUSES
        async for batch in modified_windows(self.client, "orders", start=start, end=end, per_page=self._per_page,
                                            params={"status": statuses}, concurrency=self.settings.concurrency):
            raws, bad = parse_items(batch.items, WooOrder, self.name)
            wanted = [raw for raw in raws if is_cart(raw) or (previous is not None and self._recovered(raw))]
            records, quarantined = normalize_batch(wanted, partial(normalize_cart, options=self.options), self.name)
            yield Page[Cart](stream=Stream.CARTS, records=tuple(records), quarantined=(*_rejected(bad), *quarantined),
                             cursor=_cursor(batch.low_water, previous))

    def _recovered(self, raw: WooOrder) -> bool:
        """Paid after sitting unpaid for at least the cart delay: it was an abandoned cart, now recovered."""
        paid, created = parse_gmt(raw.date_paid_gmt), parse_gmt(raw.date_created_gmt)
        return paid is not None and created is not None and paid - created >= self.options.cart_delay


def _rejected(bad: Iterable[tuple[RecordError, str]]) -> list[QuarantineEntry]:
    return [QuarantineEntry.from_error(error, payload=payload) for error, payload in bad]


def _cursor(low_water: datetime, previous: datetime | None) -> str:
    """The low-water mark, never behind the previous cursor (the overlap re-reads; it does not rewind)."""
    return format_cursor(max(low_water, previous) if previous else low_water)
