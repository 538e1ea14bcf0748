"""ShopifySource and ShopifyClient against respx and a small fake that serves by updated_at.

Covers pagination and cursors (overlap, cap at run start, updates during a sync), bulk exports
(JSONL reassembly, polling backoff, failures), cost pacing and THROTTLED, and error mapping.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from connector.clock import ManualClock
from connector.errors import AuthError, RetriesExhaustedError
from connector.http import RetryPolicy
from connector.protocols import Page, Source
from connectors.shopify import queries
from connectors.shopify.bulk import BulkOperationError, BulkPolicy, iter_bulk_objects
from connectors.shopify.client import (
    ShopifyAccessDeniedError,
    ShopifyClient,
    ShopifyGraphQLError,
    ShopifyThrottledError,
)
from connectors.shopify.models import PageData, ShopifyAbandonedCheckout, ShopifyCustomer, ShopifyOrder
from connectors.shopify.sandbox import SANDBOX_TOKEN, create_sandbox
from connectors.shopify.settings import ShopifySettings
from connectors.shopify.source import CLOCK_SKEW, ShopifySource

FIXTURES = Path(__file__).parent / "fixtures" / "shopify"
TOKEN = "shpat_test_token_0123456789"
GRAPHQL = "https://acme.myshopify.com/admin/api/2025-01/graphql.json"
METAFIELDS = ["facts.birthday", "loyalty.tier", "loyalty.points", "prefs.vip"]
NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)  # the shared conftest clock's start
RUN_START = NOW - CLOCK_SKEW


def settings(**changes: Any) -> ShopifySettings:
    values: dict[str, Any] = {"shop": "acme", "access_token": TOKEN, "customer_metafields": METAFIELDS}
    values.update(changes)
    return ShopifySettings(**values)


def responses(name: str) -> list[dict[str, Any]]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def reply(body: dict[str, Any], status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def body_of(request: httpx.Request) -> dict[str, Any]:
    return json.loads(request.content)


@dataclass
class Graphql:
    """Routes GraphQL requests by operation to queued responses; records what was asked."""

    queues: dict[str, list[httpx.Response | Exception]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def add(self, operation: str, *items: dict[str, Any] | httpx.Response | Exception) -> None:
        self.queues.setdefault(operation, []).extend(i if not isinstance(i, dict) else reply(i) for i in items)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = body_of(request)
        self.requests.append(body)
        match = re.match(r"\s*(?:query|mutation)\s+(\w+)", body["query"])
        operation = match.group(1) if match else "anonymous"
        if "abandonedCheckouts" in body["query"] and operation == "Page":
            operation = "Carts"
        elif "orders(" in body["query"] and operation == "Page":
            operation = "Orders"
        item = self.queues[operation].pop(0)
        if isinstance(item, Exception):
            raise item
        return item


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def graphql(api: respx.MockRouter) -> Graphql:
    handler = Graphql()
    api.post(GRAPHQL).mock(side_effect=handler)
    return handler


def make_source(clock: ManualClock, api: respx.MockRouter, **kwargs: Any) -> ShopifySource:
    options: dict[str, Any] = {"clock": clock, "transport": httpx.MockTransport(api.async_handler), "bulk": False}
    options.update(kwargs)
    return ShopifySource("acme", options.pop("settings", settings()), **options)


async def collect(pages: AsyncIterator[Page[Any]]) -> list[Page[Any]]:
    return [page async for page in pages]


# --- protocol, pagination, cursors -----------------------------------------------------------------


async def test_is_a_source(clock: ManualClock, api: respx.MockRouter) -> None:
    source = make_source(clock, api)
    assert isinstance(source, Source) and source.name == "acme"
    await source.aclose()


async def test_backfill_pages_through_every_customer(clock: ManualClock, api: respx.MockRouter,
                                                     graphql: Graphql) -> None:
    graphql.add("Page", *responses("customers__two_pages.json"))
    source = make_source(clock, api)
    pages = await collect(source.iter_customers(None))
    assert [len(p.records) for p in pages] == [2, 1]
    assert [p.cursor for p in pages] == ["2026-01-14T11:00:00Z", "2026-01-14T12:00:00Z"]
    first, second = (r["variables"] for r in graphql.requests)
    assert first == {"first": 142, "after": None, "query": None}  # 142 x 7 + 2 points <= 1,000
    assert second["after"] == "cursor-page-1"
    await source.aclose()


async def test_increment_filters_by_updated_at_minus_overlap(clock: ManualClock, api: respx.MockRouter,
                                                             graphql: Graphql) -> None:
    graphql.add("Page", *responses("customers__two_pages.json"))
    source = make_source(clock, api, overlap=timedelta(minutes=5))
    pages = await collect(source.iter_customers("2026-01-14T10:30:00Z"))
    assert {r["variables"]["query"] for r in graphql.requests} == {"updated_at:>'2026-01-14T10:25:00Z'"}
    assert "sortKey: UPDATED_AT" in graphql.requests[0]["query"]
    # The boundary record (10:00, inside the overlap) is re-read; the cursor never moves back.
    assert [p.cursor for p in pages] == ["2026-01-14T11:00:00Z", "2026-01-14T12:00:00Z"]
    await source.aclose()


async def test_cursor_never_passes_the_run_start(clock: ManualClock, api: respx.MockRouter,
                                                 graphql: Graphql) -> None:
    page = responses("customers__two_pages.json")[1]
    page["data"]["page"]["nodes"][0]["updatedAt"] = "2026-01-15T09:30:00Z"  # after our clock's now
    graphql.add("Page", page)
    source = make_source(clock, api)
    (only,) = await collect(source.iter_customers("2026-01-14T00:00:00Z"))
    assert only.cursor == "2026-01-15T08:59:50Z" == RUN_START.strftime("%Y-%m-%dT%H:%M:%SZ")
    await source.aclose()


async def test_an_empty_increment_keeps_the_cursor(clock: ManualClock, api: respx.MockRouter,
                                                   graphql: Graphql) -> None:
    graphql.add("Page", {"data": {"page": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": []}}})
    source = make_source(clock, api)
    (only,) = await collect(source.iter_customers("2026-01-14T00:00:00Z"))
    assert (only.records, only.cursor) == ((), "2026-01-14T00:00:00Z")
    await source.aclose()


async def test_carts_cannot_sort_by_update_so_only_the_last_page_moves_the_cursor(
    clock: ManualClock, api: respx.MockRouter, graphql: Graphql
) -> None:
    first, = responses("carts__abandoned.json")
    second = json.loads(json.dumps(first))
    first["data"]["page"]["pageInfo"] = {"hasNextPage": True, "endCursor": "carts-1"}
    graphql.add("Carts", first, second)
    source = make_source(clock, api)
    pages = await collect(source.iter_carts("2026-01-14T00:00:00Z"))
    assert "sortKey" not in graphql.requests[0]["query"]
    assert [p.cursor for p in pages] == ["2026-01-14T00:00:00Z", "2026-01-14T11:00:00Z"]
    assert len(pages[1].records) == 2 and len(pages[1].quarantined) == 2
    await source.aclose()


async def test_orders_with_more_lines_than_the_nested_page_are_completed(
    clock: ManualClock, api: respx.MockRouter, graphql: Graphql
) -> None:
    graphql.add("Orders", *responses("orders__line_items_overflow.json"))
    graphql.add("LineItems", *responses("order_line_items__rest.json"))
    source = make_source(clock, api)
    (page,) = await collect(source.iter_orders("2026-01-14T00:00:00Z"))
    (order,) = page.records
    assert [line.title for line in order.line_items] == [f"Item {i}" for i in range(12)]
    assert graphql.requests[1]["variables"] == {"id": "gid://shopify/Order/6001", "after": "lines-1"}
    await source.aclose()


# --- a fake shop serving customers by updated_at, to show no update is lost --------------------------


class FakeShop:
    """Serves the customers document like Shopify: filtered by updated_at, ascending, keyset cursors."""

    def __init__(self, clock: ManualClock, updated: dict[int, datetime]) -> None:
        self.clock = clock
        self.updated = dict(updated)
        self.on_page: Callable[[int], None] = lambda _: None
        self.pages_served = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        variables = body_of(request)["variables"]
        match = re.search(r"updated_at:>'([^']+)'", variables["query"] or "")
        since = datetime.fromisoformat(match.group(1).replace("Z", "+00:00")) if match else None
        rows = sorted((at, key) for key, at in self.updated.items() if since is None or at > since)
        if variables["after"]:
            at, key = variables["after"].split("|")
            rows = [r for r in rows if r > (datetime.fromisoformat(at), int(key))]
        chunk = rows[: variables["first"]]
        self.pages_served += 1
        nodes = [self.node(key, at) for at, key in chunk]
        end = f"{chunk[-1][0].isoformat()}|{chunk[-1][1]}" if chunk else None
        self.on_page(self.pages_served)
        return reply({"data": {"page": {"pageInfo": {"hasNextPage": len(rows) > len(chunk), "endCursor": end},
                                        "nodes": nodes}}})

    @staticmethod
    def node(key: int, at: datetime) -> dict[str, Any]:
        stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"id": f"gid://shopify/Customer/{key}", "email": f"c{key}@example.com", "createdAt": stamp,
                "updatedAt": stamp, "tags": []}


def synced(pages: list[Page[Any]]) -> dict[str, datetime]:
    return {r.id: r.updated_at for p in pages for r in p.records}


async def test_a_record_updated_during_a_sync_is_picked_up_by_the_next(clock: ManualClock,
                                                                       api: respx.MockRouter) -> None:
    shop = FakeShop(clock, {k: datetime(2026, 1, 15, 8, 0, tzinfo=UTC) + timedelta(minutes=10 * k)
                            for k in range(1, 6)})
    api.post(GRAPHQL).mock(side_effect=shop)

    def update_during_sync(page: int) -> None:
        if page == 1:  # customer 1 (already served) and customer 5 (not yet) change mid-run
            clock.advance(1)
            shop.updated[1] = shop.updated[5] = clock.now().replace(microsecond=0)

    shop.on_page = update_during_sync
    source = make_source(clock, api, settings=settings(customer_metafields=[]), page_size=2)
    store: dict[str, datetime] = {}
    run1 = await collect(source.iter_customers("2026-01-15T07:00:00Z"))
    store.update(synced(run1))
    assert run1[-1].cursor == "2026-01-15T08:59:50Z"  # capped at run start, not 09:00:01
    assert all(p.cursor <= "2026-01-15T08:59:50Z" for p in run1 if p.cursor)

    clock.advance(3600)
    run2 = await collect(source.iter_customers(run1[-1].cursor))
    store.update(synced(run2))
    assert sorted(synced(run2)) == ["shopify:acme:1", "shopify:acme:5"]  # only what changed
    expected = {f"shopify:acme:{k}": at for k, at in shop.updated.items()}
    assert store == expected  # every customer, each at its latest version
    await source.aclose()


async def test_a_crash_after_a_page_resumes_from_its_cursor_without_a_gap(clock: ManualClock,
                                                                          api: respx.MockRouter) -> None:
    shop = FakeShop(clock, {k: datetime(2026, 1, 15, 8, 0, tzinfo=UTC) + timedelta(minutes=k) for k in range(1, 7)})
    api.post(GRAPHQL).mock(side_effect=shop)
    source = make_source(clock, api, settings=settings(customer_metafields=[]), page_size=2,
                         overlap=timedelta(seconds=0))
    pages = source.iter_customers("2026-01-15T07:00:00Z")
    first = await anext(pages)  # committed; then the process dies
    await pages.aclose()
    rest = await collect(source.iter_customers(first.cursor))
    assert set(synced([first])) | set(synced(rest)) == {f"shopify:acme:{k}" for k in range(1, 7)}
    await source.aclose()


# --- bulk exports ---------------------------------------------------------------------------------


DOWNLOAD = responses("bulk_operation__running_then_completed.json")[-1]["data"]["operation"]["url"]


def jsonl(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


async def test_bulk_backfill_reassembles_orders_with_their_lines(clock: ManualClock, api: respx.MockRouter,
                                                                 graphql: Graphql) -> None:
    graphql.add("RunBulkQuery", *responses("bulk_run__created.json"))
    graphql.add("BulkOperation", *responses("bulk_operation__running_then_completed.json"))
    download = api.get(DOWNLOAD).mock(return_value=httpx.Response(200, content=jsonl(
        "bulk__orders_with_line_items.jsonl")))
    source = make_source(clock, api, bulk=True, page_size=2)
    pages = await collect(source.iter_orders(None))
    orders = {r.id: r for p in pages for r in p.records}
    assert [len(p.records) for p in pages] == [2, 1]
    assert [[li.title for li in o.line_items] for o in orders.values()] == [["Tee", "Cap"], ["Mug"], ["Tee"]]
    assert orders["shopify:acme:8002"].customer_id is None  # a guest order
    assert orders["shopify:acme:8003"].line_items[0].refunded_quantity == 2
    # Read in id order: no progress until the end; then the snapshot moment, capped at run start.
    assert [p.cursor for p in pages] == [None, "2026-01-15T08:59:50Z"]
    assert clock.sleeps == [1.0, 2.0, 4.0]  # polls back off: RUNNING, RUNNING, COMPLETED
    assert "x-shopify-access-token" not in {k.lower() for k in download.calls.last.request.headers}
    assert "edges" in graphql.requests[0]["variables"]["query"]
    await source.aclose()


async def test_bulk_backfill_of_customers_quarantines_as_paginated_does(clock: ManualClock, api: respx.MockRouter,
                                                                        graphql: Graphql) -> None:
    graphql.add("RunBulkQuery", *responses("bulk_run__created.json"))
    graphql.add("BulkOperation", *responses("bulk_operation__running_then_completed.json"))
    api.get(DOWNLOAD).mock(return_value=httpx.Response(200, content=jsonl("bulk__customers.jsonl")))
    source = make_source(clock, api, bulk=True)
    (page,) = await collect(source.iter_customers(None))
    assert [r.id for r in page.records] == ["shopify:acme:1001", "shopify:acme:1002"]
    assert page.records[0].attributes["loyalty.points"] == 1200
    assert [q.record_id for q in page.quarantined] == ["shopify:acme:1003"]
    await source.aclose()


async def test_a_failed_bulk_export_with_partial_data_raises_and_moves_nothing(
    clock: ManualClock, api: respx.MockRouter, graphql: Graphql
) -> None:
    graphql.add("RunBulkQuery", *responses("bulk_run__created.json"))
    graphql.add("BulkOperation", *responses("bulk_operation__failed_with_partial_data.json"))
    download = api.get(url__startswith="https://storage.googleapis.com/").mock(return_value=httpx.Response(200))
    source = make_source(clock, api, bulk=True)
    with pytest.raises(BulkOperationError) as caught:
        await collect(source.iter_orders(None))
    error = caught.value
    assert (error.status, error.error_code, error.partial_data) == ("FAILED", "TIMEOUT", True)
    assert "partial data" in str(error) and "Signature" not in str(error)
    assert not download.called
    await source.aclose()


async def test_a_running_bulk_query_is_named(clock: ManualClock, api: respx.MockRouter, graphql: Graphql) -> None:
    graphql.add("RunBulkQuery", *responses("bulk_run__in_progress.json"))
    graphql.add("CurrentBulkOperation", {"data": {"operation": {"id": "gid://shopify/BulkOperation/8000",
                                                                "status": "RUNNING"}}})
    source = make_source(clock, api, bulk=True)
    with pytest.raises(BulkOperationError, match="BulkOperation/8000"):
        await collect(source.iter_customers(None))
    await source.aclose()


async def test_bulk_polling_backs_off_to_thirty_seconds(clock: ManualClock, api: respx.MockRouter,
                                                        graphql: Graphql) -> None:
    running, _, completed = responses("bulk_operation__running_then_completed.json")
    completed["data"]["operation"]["url"] = None  # an export that matched nothing
    graphql.add("RunBulkQuery", *responses("bulk_run__created.json"))
    graphql.add("BulkOperation", *[running] * 7, completed)
    source = make_source(clock, api, bulk=True)
    (page,) = await collect(source.iter_carts(None))
    assert page.records == () and page.cursor == "2026-01-15T08:59:50Z"
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    await source.aclose()


async def test_a_refused_bulk_query_raises_its_user_errors(clock: ManualClock, api: respx.MockRouter,
                                                          graphql: Graphql) -> None:
    graphql.add("RunBulkQuery", {"data": {"bulkOperationRunQuery": {"bulkOperation": None, "userErrors": [
        {"field": ["query"], "message": "Invalid bulk query: too many connections", "code": "INVALID"}]}}})
    source = make_source(clock, api, bulk=True)
    with pytest.raises(ShopifyGraphQLError, match="too many connections") as caught:
        await collect(source.iter_orders(None))
    assert caught.value.codes == ("INVALID",)
    await source.aclose()


async def test_bulk_polling_gives_up_after_its_timeout(clock: ManualClock, api: respx.MockRouter,
                                                       graphql: Graphql) -> None:
    running = responses("bulk_operation__running_then_completed.json")[0]
    graphql.add("RunBulkQuery", *responses("bulk_run__created.json"))
    graphql.add("BulkOperation", *[running] * 3)
    source = make_source(clock, api, bulk=True, bulk_policy=BulkPolicy(timeout=5))
    with pytest.raises(BulkOperationError, match="still RUNNING"):
        await collect(source.iter_orders(None))
    assert clock.sleeps == [1.0, 2.0, 4.0]
    await source.aclose()


async def _bulk_lines(clock: ManualClock, api: respx.MockRouter, lines: list[dict[str, Any]],
                      batch_size: int) -> list[list[ShopifyOrder]]:
    api.get(DOWNLOAD).mock(return_value=httpx.Response(200, content="\n".join(map(json.dumps, lines)).encode()))
    client = ShopifyClient(settings(), clock=clock, transport=httpx.MockTransport(api.async_handler))
    try:
        return [b async for b in iter_bulk_objects(client, DOWNLOAD, ShopifyOrder, children={"LineItem": "lineItems"},
                                                   batch_size=batch_size)]
    finally:
        await client.aclose()


def _order(n: int) -> dict[str, Any]:
    return {"id": f"gid://shopify/Order/{n}"}


def _line(n: int, parent: int) -> dict[str, Any]:
    return {"id": f"gid://shopify/LineItem/{n}", "title": f"L{n}", "__parentId": f"gid://shopify/Order/{parent}"}


async def test_bulk_children_need_not_follow_their_parent_directly(clock: ManualClock, api: respx.MockRouter) -> None:
    lines = [_order(1), _order(2), _line(11, 1), _line(21, 2), _line(12, 1), _order(3)]
    batches = await _bulk_lines(clock, api, lines, batch_size=5)
    assert [[li.title for li in o.line_items.nodes] for b in batches for o in b] == [["L11", "L12"], ["L21"], []]


async def test_a_child_of_an_already_emitted_parent_is_an_error(clock: ManualClock, api: respx.MockRouter) -> None:
    lines = [_order(1), _order(2), _line(11, 1)]  # with batch_size 1, order 1 left when order 2 arrived
    with pytest.raises(BulkOperationError, match="not grouped by parent"):
        await _bulk_lines(clock, api, lines, batch_size=1)


async def test_an_unknown_child_type_is_an_error(clock: ManualClock, api: respx.MockRouter) -> None:
    lines = [_order(1), {"id": "gid://shopify/Refund/5", "__parentId": "gid://shopify/Order/1"}]
    with pytest.raises(BulkOperationError, match="Refund"):
        await _bulk_lines(clock, api, lines, batch_size=5)


# --- pacing by the cost bucket ---------------------------------------------------------------------


class BucketServer:
    """Shopify's leaky bucket on the test clock: charge requested up front, refund the unused part."""

    def __init__(self, clock: ManualClock, size: float, rate: float, requested: float, actual: float) -> None:
        self.clock, self.size, self.rate = clock, size, rate
        self.requested, self.actual = requested, actual
        self.level, self.at = size, clock.monotonic()
        self.throttled = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        now = self.clock.monotonic()
        self.level = min(self.size, self.level + (now - self.at) * self.rate)
        self.at = now
        status = {"maximumAvailable": self.size, "restoreRate": self.rate}
        if self.requested > self.level + 1e-9:
            self.throttled += 1
            return reply({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                          "extensions": {"cost": {"requestedQueryCost": self.requested,
                                                  "throttleStatus": {**status, "currentlyAvailable": self.level}}}})
        self.level -= self.requested  # charged up front ...
        self.level += self.requested - self.actual  # ... and the unused part refunded
        page = {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": []}
        return reply({"data": {"page": page}, "extensions": {"cost": {
            "requestedQueryCost": self.requested, "actualQueryCost": self.actual,
            "throttleStatus": {**status, "currentlyAvailable": self.level}}}})


async def test_pacing_from_throttle_status_never_gets_throttled(clock: ManualClock, api: respx.MockRouter) -> None:
    server = BucketServer(clock, size=1000, rate=50, requested=700, actual=350)
    api.post(GRAPHQL).mock(side_effect=server)
    client = ShopifyClient(settings(customer_metafields=[]), clock=clock,
                           transport=httpx.MockTransport(api.async_handler))
    document = queries.customer_query()
    for _ in range(4):
        await client.execute(document, PageData[ShopifyCustomer], {"first": 250, "after": None, "query": None})
    # Each query reserves its cost + 1 point of margin (PACING_MARGIN).
    # q1: static estimate 2 + 250 x 3 = 752, +1 <= 1,000: no wait; Shopify charges 700, refunds 350 -> 650.
    # q2: Shopify's requested 700 is now known; reserve 701: (701 - 650) / 50 = 1.02 s; then 701 - 350 = 351.
    # q3, q4: (701 - 351) / 50 = 7 s each.
    assert clock.sleeps == pytest.approx([1.02, 7.0, 7.0])
    assert client.throttled == 0 and server.throttled == 0
    await client.aclose()


async def test_throttled_is_retried_after_the_computed_wait_counted_and_logged(
    clock: ManualClock, api: respx.MockRouter, graphql: Graphql, caplog: pytest.LogCaptureFixture
) -> None:
    graphql.add("Page", *responses("customers__throttled.json"), *responses("customers__two_pages.json")[1:])
    source = make_source(clock, api)
    with caplog.at_level(logging.WARNING, logger="connectors.shopify"):
        (page,) = await collect(source.iter_customers(None))
    assert len(page.records) == 1
    assert source.client.throttled == 1
    # (requested + 1 point margin - currentlyAvailable) / restoreRate
    assert clock.sleeps == pytest.approx([(996 + 1 - 96) / 100])
    assert "pacing bug" in caplog.text
    await source.aclose()


async def test_throttled_retries_are_bounded(clock: ManualClock, api: respx.MockRouter, graphql: Graphql) -> None:
    graphql.add("Page", *responses("customers__throttled.json") * 4)
    source = make_source(clock, api)
    with pytest.raises(ShopifyThrottledError):
        await collect(source.iter_customers(None))
    assert source.client.throttled == 4 and len(graphql.requests) == 4
    await source.aclose()


# --- HTTP and GraphQL errors -----------------------------------------------------------------------


async def test_5xx_and_timeouts_are_retried_by_the_core_layer(clock: ManualClock, api: respx.MockRouter,
                                                              graphql: Graphql) -> None:
    graphql.add("Page", httpx.Response(502), httpx.ReadTimeout("slow"), *responses("customers__two_pages.json")[1:])
    source = make_source(clock, api)
    source.client.http.retry_policy = RetryPolicy(jitter=False)
    (page,) = await collect(source.iter_customers(None))
    assert len(page.records) == 1 and len(graphql.requests) == 3
    assert source.client.http.stats.retries == 2
    # The core layer takes the query's reservation (996 + 1) before *every* attempt, so each retry
    # also waits for the bucket: backoff 0.5 s, then (997 - 3 - 0.5 x 50) / 50 = 19.38 s; backoff 1 s,
    # then (997 - 1 x 50) / 50 = 18.94 s. Conservative (a 5xx may not have been charged), never throttled.
    assert clock.sleeps == pytest.approx([0.5, 19.38, 1.0, 18.94])
    await source.aclose()


async def test_the_core_layer_gives_up_after_its_policy(clock: ManualClock, api: respx.MockRouter,
                                                        graphql: Graphql) -> None:
    graphql.add("Page", *[httpx.Response(503)] * 3)
    source = make_source(clock, api)
    source.client.http.retry_policy = RetryPolicy(max_attempts=3, jitter=False)
    with pytest.raises(RetriesExhaustedError):
        await collect(source.iter_customers(None))
    assert len(graphql.requests) == 3
    await source.aclose()


async def test_401_is_an_auth_error_without_retry_or_token(clock: ManualClock, api: respx.MockRouter,
                                                           graphql: Graphql) -> None:
    graphql.add("Page", httpx.Response(401, text=f"[API] Invalid API key or access token ({TOKEN})"))
    source = make_source(clock, api)
    with pytest.raises(AuthError) as caught:
        await collect(source.iter_customers(None))
    assert TOKEN not in str(caught.value) and len(graphql.requests) == 1
    await source.aclose()


async def test_access_denied_names_the_missing_scope(clock: ManualClock, api: respx.MockRouter,
                                                     graphql: Graphql) -> None:
    graphql.add("Page", *responses("customers__access_denied.json"))
    source = make_source(clock, api)
    with pytest.raises(ShopifyAccessDeniedError) as caught:
        await collect(source.iter_customers(None))
    assert caught.value.scope == "read_customers" and "read_customers" in str(caught.value)
    await source.aclose()


async def test_other_graphql_errors_are_redacted(clock: ManualClock, api: respx.MockRouter, graphql: Graphql) -> None:
    graphql.add("Page", {"errors": [{"message": f"Field 'x' invalid for jane.doe@example.com token {TOKEN}",
                                     "extensions": {"code": "undefinedField"}}]})
    source = make_source(clock, api)
    with pytest.raises(ShopifyGraphQLError) as caught:
        await collect(source.iter_customers(None))
    message = str(caught.value)
    assert caught.value.codes == ("undefinedField",)
    assert TOKEN not in message and "jane.doe@example.com" not in message and "j***@example.com" in message
    await source.aclose()


async def test_sends_the_token_to_the_versioned_endpoint_and_honours_base_url(clock: ManualClock,
                                                                              api: respx.MockRouter) -> None:
    route = api.post("http://127.0.0.1:8765/admin/api/2025-04/graphql.json").mock(
        return_value=reply({"data": {"shop": {"name": "Acme", "myshopifyDomain": "acme.myshopify.com",
                                              "currencyCode": "EUR", "plan": {"displayName": "Basic"}},
                                     "currentAppInstallation": {"accessScopes": [{"handle": "read_orders"}]}}}))
    client = ShopifyClient(settings(base_url="http://127.0.0.1:8765", api_version="2025-04"), clock=clock,
                           transport=httpx.MockTransport(api.async_handler))
    info = await client.shop_info()
    assert info.current_app_installation and [s.handle for s in info.current_app_installation.access_scopes] == [
        "read_orders"]
    assert route.calls.last.request.headers["X-Shopify-Access-Token"] == TOKEN
    await client.aclose()


# --- flows against the in-process Shopify sandbox --------------------------------------------------

SANDBOX_METAFIELDS = ["facts.birthday", "loyalty.tier"]


@pytest.fixture
def sandbox(clock: ManualClock) -> Any:
    return create_sandbox(customers=40, seed=7, clock=clock)


def sandbox_settings(sandbox: Any) -> ShopifySettings:
    return ShopifySettings(shop=sandbox.shop.name, access_token=SANDBOX_TOKEN, customer_metafields=SANDBOX_METAFIELDS)


def sandbox_source(sandbox: Any, clock: ManualClock, **kwargs: Any) -> ShopifySource:
    return ShopifySource(sandbox.shop.name, sandbox_settings(sandbox), clock=clock, transport=sandbox.transport(),
                         **kwargs)


def outcome(pages: list[Page[Any]]) -> tuple[dict[str, Any], list[tuple[str, str | None, str]]]:
    records = {r.id: r for p in pages for r in p.records}
    quarantined = sorted((q.record_id, q.field, q.reason) for p in pages for q in p.quarantined)
    return records, quarantined


@pytest.mark.parametrize("stream", ["customers", "orders", "carts"])
async def test_sandbox_bulk_and_paginated_backfills_agree(sandbox: Any, clock: ManualClock, stream: str) -> None:
    paged_source = sandbox_source(sandbox, clock, bulk=False)
    bulk_source = sandbox_source(sandbox, clock, bulk=True)
    paged = await collect(getattr(paged_source, f"iter_{stream}")(None))
    bulk = await collect(getattr(bulk_source, f"iter_{stream}")(None))
    paged_records, paged_quarantine = outcome(paged)
    bulk_records, bulk_quarantine = outcome(bulk)
    assert paged_records and paged_records == bulk_records
    assert paged_quarantine == bulk_quarantine
    assert paged_source.client.throttled == bulk_source.client.throttled == 0
    await paged_source.aclose()
    await bulk_source.aclose()


async def test_sandbox_increment_after_an_update(sandbox: Any, clock: ManualClock) -> None:
    source = sandbox_source(sandbox, clock, bulk=True)
    backfill = await collect(source.iter_customers(None))
    records, _ = outcome(backfill)
    target = next(iter(records.values()))
    clock.advance(3600)
    sandbox.shop.update("customers", int(target.id.rsplit(":", 1)[1]), clock.now(), first_name="Renamed")
    clock.advance(60)
    increment = await collect(source.iter_customers(backfill[-1].cursor))
    changed, _ = outcome(increment)
    assert list(changed) == [target.id] and changed[target.id].first_name == "Renamed"
    assert increment[-1].cursor is not None and increment[-1].cursor > (backfill[-1].cursor or "")
    await source.aclose()


async def test_sandbox_full_speed_on_the_standard_plan_is_never_throttled(sandbox: Any, clock: ManualClock) -> None:
    source = sandbox_source(sandbox, clock, bulk=False)
    for stream in ("customers", "orders", "carts"):
        await collect(getattr(source, f"iter_{stream}")(None))
    assert source.client.throttled == 0
    assert clock.sleeps  # the bucket did run low: pacing waited instead of being throttled
    limiter = source.client.limiter
    assert (limiter.capacity, limiter.rate) == (2000, 100)  # adopted from throttleStatus
    await source.aclose()


@pytest.mark.parametrize("document", ["customers", "orders", "carts"])
async def test_static_cost_estimates_match_the_sandbox(sandbox: Any, clock: ManualClock, document: str) -> None:
    text, model = {
        "customers": (queries.customer_query(SANDBOX_METAFIELDS), ShopifyCustomer),
        "orders": (queries.ORDERS, ShopifyOrder),
        "carts": (queries.ABANDONED_CHECKOUTS, ShopifyAbandonedCheckout),
    }[document]
    client = ShopifyClient(sandbox_settings(sandbox), clock=clock, transport=sandbox.transport())
    variables = {"first": 5, "after": None, "query": None}
    await client.execute(text, PageData[model], variables)  # type: ignore[valid-type]
    assert client.last_cost is not None
    assert client.last_cost.requested_query_cost == queries.estimated_cost(text, variables)
    await client.aclose()
