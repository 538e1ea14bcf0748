"""The Shopify :class:`~connector.protocols.Source`: customers, orders and abandoned checkouts.

Customers, orders and carts differ only in a row of :data:`_SPECS` (documents, raw model,
normaliser, whether the API can sort them by ``updatedAt``); one generic iterator reads them all.

**Backfill** (``since=None``): a bulk export when ``bulk`` is on (not cost-throttled, one JSONL
file), else paginated from the beginning. **Increments** (``since=T``): paginated with
``query: "updated_at:>'T - overlap'"`` and ``sortKey: UPDATED_AT`` ascending.

**Cursors** are ISO 8601 UTC timestamps: the high-water mark of ``updatedAt`` seen so far, capped
at the run's start (``clock.now()`` when the iteration began, less a clock-skew margin), and
never lower than ``since``. Why no update can be lost:

* Pages come in ascending ``updatedAt`` order, so once a page is committed every record updated
  up to that page's high-water mark has been read: a crash replays from there, it never skips.
* A record updated *during* the run gets an ``updatedAt`` after the run's start; since the cursor
  is capped at the run's start, the next run asks for it again, wherever it had moved in the sort.
* The overlap re-reads the last minutes before the cursor: records that share the boundary's
  second, clock skew between Shopify's servers and ours, and Shopify's search index trailing a
  write by a few seconds. Re-read records are harmless; the store upserts by id.
* Abandoned checkouts cannot be sorted by ``updatedAt`` (the API has no such sort key): they are
  filtered the same way but read in id order, so their cursor moves only on the last page.
* A bulk export is read in id order too: its pages carry ``since`` (no progress) and only the last
  one carries the new cursor, capped at the run's start, which precedes the operation's
  ``createdAt`` (the export's snapshot moment). A failed export moves nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel

from connector.clock import Clock
from connector.cursors import format_cursor
from connector.cursors import parse_cursor as parse_timestamp
from connector.errors import StateError
from connector.models import Cart, Customer, Order
from connector.protocols import Page, QuarantineEntry, Stream
from connector.ratelimit import RateLimiter
from connectors.shopify.bulk import BulkPolicy, iter_bulk_objects, run_bulk_query
from connectors.shopify.client import ShopifyClient
from connectors.shopify.models import (
    Connection,
    LineItemsData,
    PageData,
    PageInfo,
    ShopifyAbandonedCheckout,
    ShopifyCheckoutLineItem,
    ShopifyCustomer,
    ShopifyLineItem,
    ShopifyOrder,
)
from connectors.shopify.normalize import normalize_batch, normalize_cart, normalize_customer, normalize_order
from connectors.shopify.queries import (
    ABANDONED_CHECKOUTS,
    ABANDONED_CHECKOUTS_BULK,
    CHECKOUT_LINE_ITEMS,
    MAX_QUERY_COST,
    ORDER_LINE_ITEMS,
    ORDERS,
    ORDERS_BULK,
    customer_bulk_query,
    customer_query,
    largest_first,
    updated_since_filter,
)
from connectors.shopify.settings import ShopifySettings

__all__ = ["CLOCK_SKEW", "ShopifySource", "format_cursor", "parse_cursor"]

RawT = TypeVar("RawT", bound=BaseModel)
RecordT = TypeVar("RecordT", Customer, Order, Cart)

# Subtracted from the run's start: our clock may run ahead of Shopify's.
CLOCK_SKEW = timedelta(seconds=10)


@dataclass(frozen=True)
class _Spec(Generic[RawT, RecordT]):
    """How one stream is read; the only place where customers, orders and carts differ."""

    stream: Stream
    record: type[RecordT]
    raw: type[RawT]
    document: Callable[[ShopifySettings], str]
    bulk_document: Callable[[ShopifySettings], str]
    normalize: Callable[[RawT, str], RecordT]
    sorted_by_updated: bool
    bulk_children: Mapping[str, str]  # child gid type -> connection field, for bulk JSONL
    line_items: str | None = None  # follow-up document for lines past the nested page
    line_item: type[BaseModel] | None = None


_SPECS: Mapping[Stream, _Spec[Any, Any]] = MappingProxyType({
    Stream.CUSTOMERS: _Spec(
        Stream.CUSTOMERS, Customer, ShopifyCustomer,
        document=lambda s: customer_query(s.customer_metafields),
        bulk_document=lambda s: customer_bulk_query(s.customer_metafields),
        normalize=normalize_customer, sorted_by_updated=True, bulk_children={},
    ),
    Stream.ORDERS: _Spec(
        Stream.ORDERS, Order, ShopifyOrder,
        document=lambda _: ORDERS, bulk_document=lambda _: ORDERS_BULK,
        normalize=normalize_order, sorted_by_updated=True, bulk_children={"LineItem": "lineItems"},
        line_items=ORDER_LINE_ITEMS, line_item=ShopifyLineItem,
    ),
    Stream.CARTS: _Spec(
        Stream.CARTS, Cart, ShopifyAbandonedCheckout,
        document=lambda _: ABANDONED_CHECKOUTS, bulk_document=lambda _: ABANDONED_CHECKOUTS_BULK,
        normalize=normalize_cart, sorted_by_updated=False,
        bulk_children={"AbandonedCheckoutLineItem": "lineItems"},
        line_items=CHECKOUT_LINE_ITEMS, line_item=ShopifyCheckoutLineItem,
    ),
})




def parse_cursor(cursor: str | None) -> datetime | None:
    """Read a shopify timestamp cursor; ``None`` stays ``None``.

    Raises:
        StateError: the saved cursor is not a timezone-aware ISO 8601 timestamp.
    """
    return parse_timestamp(cursor, "shopify")


def _updated_at(raw: BaseModel) -> datetime | None:
    value = getattr(raw, "updated_at", None)
    try:
        return parse_cursor(value) if isinstance(value, str) else None
    except StateError:
        return None  # a bad timestamp quarantines the record in normalize; it moves no cursor


class ShopifySource:
    """One Shopify shop as a :class:`~connector.protocols.Source`.

    Args:
        name: the shop's name in config; the ``<shop>`` part of every id.
        settings: the shop's settings.
        clock: wall time for cursors and the sleep that pacing and polling wait on.
        transport: an httpx transport (tests, in-process sandboxes).
        overlap: how far before the cursor increments re-read.
        page_size: at most this many records per page (fewer when the query cost demands it).
        bulk: backfill through a bulk export; defaults to ``settings.use_bulk``.
        limiter: a shared points bucket for the shop, if the caller has one.
        bulk_policy: how bulk operations are polled.
    """

    def __init__(
        self,
        name: str,
        settings: ShopifySettings,
        *,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
        overlap: timedelta = timedelta(minutes=5),
        page_size: int = 250,
        bulk: bool | None = None,
        limiter: RateLimiter | None = None,
        bulk_policy: BulkPolicy | None = None,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.name = name
        self.settings = settings
        self.client = ShopifyClient(settings, transport=transport, clock=clock, limiter=limiter)
        self._clock = clock
        self._overlap = overlap
        self._page_size = page_size
        self._bulk = settings.use_bulk if bulk is None else bulk
        self._bulk_policy = bulk_policy or BulkPolicy()

    async def check(self) -> str:
        """For ``connector check``: the token works and the app has the scopes the source needs."""
        from connectors.shopify.check import check_shop

        return await check_shop(self.client)

    def iter_customers(self, since: str | None) -> AsyncIterator[Page[Customer]]:
        """Customers updated after cursor ``since`` (``None``: all), ascending by ``updatedAt``."""
        return self._iter(_SPECS[Stream.CUSTOMERS], since)

    def iter_orders(self, since: str | None) -> AsyncIterator[Page[Order]]:
        """Orders updated after cursor ``since`` (``None``: all), ascending by ``updatedAt``."""
        return self._iter(_SPECS[Stream.ORDERS], since)

    def iter_carts(self, since: str | None) -> AsyncIterator[Page[Cart]]:
        """Abandoned checkouts updated after cursor ``since`` (``None``: all), in id order."""
        return self._iter(_SPECS[Stream.CARTS], since)

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self.client.aclose()

    # ------------------------------------------------------------------ the one generic iterator

    async def _iter(self, spec: _Spec[RawT, RecordT], since: str | None) -> AsyncIterator[Page[RecordT]]:
        run_start = self._clock.now() - CLOCK_SKEW
        start = parse_cursor(since)
        if start is None and self._bulk:
            pages = self._bulk_pages(spec, run_start)
        else:
            pages = self._paginated(spec, start, run_start)
        async for page in pages:
            yield page

    async def _paginated(
        self, spec: _Spec[RawT, RecordT], since: datetime | None, run_start: datetime
    ) -> AsyncIterator[Page[RecordT]]:
        document = spec.document(self.settings)
        budget = int(min(MAX_QUERY_COST, self.client.limiter.capacity))
        first = largest_first(document, self._page_size, budget=budget)
        search = updated_since_filter(format_cursor(since - self._overlap)) if since else None
        high: datetime | None = since
        after: str | None = None
        while True:
            variables = {"first": first, "after": after, "query": search}
            data = await self.client.execute(document, PageData[spec.raw], variables)  # type: ignore[name-defined]
            connection: Connection[RawT] = data.page
            raws: list[RawT] = [await self._complete_line_items(spec, raw) for raw in connection.nodes]
            high = max([high, *(_updated_at(raw) for raw in raws)], key=_sortable)
            info = connection.page_info
            last = not info.has_next_page or not info.end_cursor
            moved = spec.sorted_by_updated or last
            yield self._page(spec, raws, _cursor(high if moved else since, since, run_start))
            if last:
                return
            if info.end_cursor == after:  # a server repeating its cursor would loop forever
                raise StateError(f"shopify {spec.stream}: the API repeated page cursor {after!r}")
            after = info.end_cursor

    async def _bulk_pages(self, spec: _Spec[RawT, RecordT], run_start: datetime) -> AsyncIterator[Page[RecordT]]:
        operation = await run_bulk_query(self.client, spec.bulk_document(self.settings), policy=self._bulk_policy)
        created = parse_cursor(operation.created_at) if operation.created_at else None
        final = min(created, run_start) if created else run_start
        pending: list[RawT] | None = None
        if operation.url:
            batches = iter_bulk_objects(
                self.client, operation.url, spec.raw, children=spec.bulk_children, batch_size=self._page_size
            )
            async for batch in batches:
                if pending is not None:  # read in id order: no progress until the last page
                    yield self._page(spec, pending, None)
                pending = batch
        yield self._page(spec, pending or [], format_cursor(final))

    async def _complete_line_items(self, spec: _Spec[RawT, RecordT], raw: RawT) -> RawT:
        """Fetch the lines past the nested page (orders or checkouts with many lines; rare)."""
        lines: Connection[Any] | None = getattr(raw, "line_items", None)
        if spec.line_items is None or spec.line_item is None or lines is None or not lines.page_info.has_next_page:
            return raw
        nodes, after = list(lines.nodes), lines.page_info.end_cursor
        data_type = LineItemsData[spec.line_item]  # type: ignore[name-defined]
        while after:
            variables = {"id": getattr(raw, "id", None), "after": after}
            data = await self.client.execute(spec.line_items, data_type, variables)
            more = data.owner.line_items if data.owner else None
            if more is None:  # deleted since the page was read; its next version will come anyway
                break
            nodes.extend(more.nodes)
            after = more.page_info.end_cursor if more.page_info.has_next_page else None
        return raw.model_copy(update={"line_items": Connection[Any](page_info=PageInfo(), nodes=nodes)})

    def _page(self, spec: _Spec[RawT, RecordT], raws: list[RawT], cursor: str | None) -> Page[RecordT]:
        records, quarantined = normalize_batch(raws, spec.normalize, self.name)
        entries: tuple[QuarantineEntry, ...] = tuple(quarantined)
        return Page[spec.record](  # type: ignore[name-defined]
            stream=spec.stream, records=tuple(records), quarantined=entries, cursor=cursor
        )


def _sortable(moment: datetime | None) -> datetime:
    return moment or datetime.min.replace(tzinfo=UTC)


def _cursor(high: datetime | None, since: datetime | None, run_start: datetime) -> str | None:
    """The high-water mark (never behind ``since``) capped at the run's start; ``None`` if nothing yet."""
    best = max((moment for moment in (high, since) if moment is not None), default=None)
    return format_cursor(min(best, run_start)) if best is not None else None
