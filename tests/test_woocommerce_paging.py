"""The WooCommerce readers against a tiny in-test WordPress: keyset time windows, id scans, auth fallback.

The fake below implements only what the readers ask for, the way WordPress answers it (strict
date bounds in whole seconds, offset pages, ``X-WP-Total``), and lets a test change the data
between requests, as a live shop does while we page through it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from connector.clock import ManualClock
from connector.errors import AuthError
from connectors.woocommerce.client import WooCommerceClient
from connectors.woocommerce.idscan import by_ids, newer_than, scan_by_id
from connectors.woocommerce.settings import WooCommerceSettings
from connectors.woocommerce.windows import modified_windows

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
KEY, SECRET = "ck_test_key", "cs_test_secret"


def settings(url: str = "https://shop.test", **changes: Any) -> WooCommerceSettings:
    return WooCommerceSettings(url=url, consumer_key=KEY, consumer_secret=SECRET, **changes)


@dataclass
class FakeShop:
    """Orders/customers as (id, modified) rows; answers list requests like WordPress."""

    rows: dict[int, datetime] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)
    before_answer: Callable[[int], None] | None = None  # called with the request number, before answering
    strip_authorization: bool = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        params = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        authorised = params.get("consumer_key") == KEY and params.get("consumer_secret") == SECRET
        basic = request.headers.get("authorization", "")
        if basic and not self.strip_authorization:
            authorised = authorised or basic == "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
        if not authorised:
            return httpx.Response(401, json={"code": "woocommerce_rest_cannot_view",
                                             "message": "Sorry, you cannot list resources.", "data": {"status": 401}})
        self.requests.append(params)
        if self.before_answer is not None:
            self.before_answer(len(self.requests))
        rows = sorted(self.rows.items())
        if "modified_after" in params:
            after = datetime.fromisoformat(params["modified_after"]).replace(tzinfo=UTC)
            rows = [r for r in rows if r[1] > after]
        if "modified_before" in params:
            before = datetime.fromisoformat(params["modified_before"]).replace(tzinfo=UTC)
            rows = [r for r in rows if r[1] < before]
        if "include" in params:
            wanted = {int(i) for i in params["include"].split(",")}
            rows = [r for r in rows if r[0] in wanted]
        if params.get("orderby") in ("modified", "date"):  # created an hour before the last change, here
            rows.sort(key=lambda r: (r[1], r[0]))
        reverse = params.get("order") == "desc"
        if reverse:
            rows.reverse()
        per_page = int(params.get("per_page", 10))
        offset = int(params["offset"]) if "offset" in params else (int(params.get("page", 1)) - 1) * per_page
        chunk = rows[offset:offset + per_page]
        body = [{"id": i, "date_modified_gmt": m.strftime("%Y-%m-%dT%H:%M:%S"),
                 "date_created_gmt": (m - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")} for i, m in chunk]
        return httpx.Response(200, json=body, headers={"X-WP-Total": str(len(rows)),
                                                       "X-WP-TotalPages": str(-(-len(rows) // per_page))})


def client_for(shop: FakeShop, clock: ManualClock, **changes: Any) -> WooCommerceClient:
    return WooCommerceClient(settings(**changes), account="boutique", transport=httpx.MockTransport(shop.handler),
                             clock=clock)


async def collect_windows(client: WooCommerceClient, **kwargs: Any) -> tuple[list[int], list[datetime]]:
    ids: list[int] = []
    marks: list[datetime] = []
    async for batch in modified_windows(client, "orders", **kwargs):
        ids.extend(item["id"] for item in batch.items)
        marks.append(batch.low_water)
    return ids, marks


async def test_windows_read_everything_once_with_concurrency(clock: ManualClock) -> None:
    # 1,000 orders, one every 37 seconds, then a burst late in the range (a growing shop).
    shop = FakeShop({i: T0 + timedelta(seconds=37 * i) for i in range(1, 1001)})
    shop.rows.update({2000 + i: T0 + timedelta(seconds=37_000 + i // 3) for i in range(600)})
    client = client_for(shop, clock, concurrency=4)
    ids, marks = await collect_windows(client, start=None, end=T0 + timedelta(days=2), concurrency=4)
    assert sorted(set(ids)) == sorted(shop.rows)
    assert len(ids) - len(set(ids)) <= len(shop.requests)  # boundary re-reads only, a few per request
    assert marks[-1] == T0 + timedelta(days=2)
    # 1,600 orders at 100 a page need at least 16 requests; keyset windows should not need many more.
    assert len(shop.requests) <= 16 * 2
    assert all(r["orderby"] == "modified" and r["dates_are_gmt"] == "true" and r["page"] in ("1",) or
               r["orderby"] == "id" for r in shop.requests)


async def test_windows_low_water_only_covers_what_was_yielded(clock: ManualClock) -> None:
    shop = FakeShop({i: T0 + timedelta(minutes=i) for i in range(1, 501)})
    client = client_for(shop, clock, concurrency=3)
    seen: set[int] = set()
    async for batch in modified_windows(client, "orders", start=None, end=T0 + timedelta(days=1), concurrency=3):
        seen.update(item["id"] for item in batch.items)
        # Every order modified before the mark has been yielded already: a cursor saved now loses nothing.
        missing = [i for i, at in shop.rows.items() if at < batch.low_water and i not in seen]
        assert missing == []


async def test_an_order_modified_during_the_scan_leaves_the_range_and_nothing_is_skipped(clock: ManualClock) -> None:
    shop = FakeShop({i: T0 + timedelta(seconds=i) for i in range(1, 301)})
    end = T0 + timedelta(hours=1)

    def modify(number: int) -> None:
        if number == 2:  # after the first page: order 5 (already read) and 150 (not yet) change now
            shop.rows[5] = end + timedelta(seconds=3)
            shop.rows[150] = end + timedelta(seconds=4)

    shop.before_answer = modify
    ids, _ = await collect_windows(client_for(shop, clock), start=None, end=end)
    # Offset paging would have skipped the order that moved into the gap; keyset windows do not.
    # 150 left the range (modified after the run's start): the next run reads it.
    assert set(ids) == set(range(1, 301)) - {150}


async def test_more_than_a_page_in_one_second_is_read_by_id(clock: ManualClock) -> None:
    burst = T0 + timedelta(seconds=10)
    shop = FakeShop({i: burst for i in range(1, 251)})  # a bulk edit: 250 orders in one second
    shop.rows.update({300: T0 + timedelta(seconds=5), 301: T0 + timedelta(seconds=20)})
    ids, marks = await collect_windows(client_for(shop, clock), start=T0, end=T0 + timedelta(minutes=1))
    assert sorted(set(ids)) == sorted(shop.rows)
    assert any(r["orderby"] == "id" for r in shop.requests)
    assert marks[-1] == T0 + timedelta(minutes=1)


async def test_strict_bounds_include_the_start_second_and_exclude_the_end(clock: ManualClock) -> None:
    shop = FakeShop({1: T0, 2: T0 + timedelta(seconds=59), 3: T0 + timedelta(seconds=60)})
    ids, _ = await collect_windows(client_for(shop, clock), start=T0, end=T0 + timedelta(seconds=60))
    assert sorted(ids) == [1, 2]
    assert shop.requests[0]["modified_after"] == "2026-01-10T11:59:59"
    assert shop.requests[0]["modified_before"] == "2026-01-10T12:01:00"


async def test_id_scan_survives_deletions_and_new_accounts_mid_scan(clock: ManualClock) -> None:
    shop = FakeShop({i: T0 for i in range(2, 1002)})

    def churn(number: int) -> None:
        if number == 3:
            for gone in range(10, 30):  # 20 accounts deleted behind the scan: offsets shift by 20
                shop.rows.pop(gone, None)
            shop.rows[5000] = T0  # a sign-up during the scan
    shop.before_answer = churn
    ids: list[int] = []
    async for items in scan_by_id(client_for(shop, clock), "customers", concurrency=1):
        ids.extend(item["id"] for item in items)
    expected = (set(range(2, 1002)) - set(range(10, 30))) | {5000}
    assert len(ids) == len(set(ids))  # each once
    assert expected <= set(ids)


async def test_newer_than_stops_at_a_known_id(clock: ManualClock) -> None:
    shop = FakeShop({i: T0 for i in range(1, 251)})
    pages = [items async for items in newer_than(client_for(shop, clock), "customers", 120)]
    assert sorted(item["id"] for page in pages for item in page) == list(range(121, 251))
    assert len(shop.requests) == 2  # 250..151, then 150..51 (which reaches the known id)


async def test_by_ids_asks_in_chunks_of_100(clock: ManualClock) -> None:
    shop = FakeShop({i: T0 for i in range(1, 400)})
    found = await by_ids(client_for(shop, clock), "customers", [*range(1, 251), 9999])
    assert sorted(item["id"] for item in found) == list(range(1, 251))
    assert len(shop.requests) == 3


async def test_basic_auth_falls_back_to_query_keys_once(clock: ManualClock, caplog: pytest.LogCaptureFixture) -> None:
    shop = FakeShop({1: T0}, strip_authorization=True)
    client = client_for(shop, clock)
    with caplog.at_level(logging.WARNING, logger="connectors.woocommerce"):
        first = await client.list("orders", {"per_page": 10})
        second = await client.list("orders", {"per_page": 10})
    assert [item["id"] for item in first.items()] == [item["id"] for item in second.items()] == [1]
    assert client.auth.mode == "query"
    assert sum("strips the Authorization header" in r.getMessage() for r in caplog.records) == 1
    assert all(SECRET not in r.getMessage() for r in caplog.records)


async def test_wrong_keys_fail_with_a_clear_error_and_no_secret(clock: ManualClock) -> None:
    shop = FakeShop({1: T0})
    client = WooCommerceClient(
        WooCommerceSettings(url="https://shop.test", consumer_key=KEY, consumer_secret="cs_wrong_secret_value"),
        account="boutique", transport=httpx.MockTransport(shop.handler), clock=clock,
    )
    with pytest.raises(AuthError) as caught:
        await client.list("orders", {})
    message = str(caught.value)
    assert "refused the REST API keys" in message and "Read permission" in message
    assert "cs_wrong_secret_value" not in message and "cs_wrong_secret_value" not in repr(client)


async def test_concurrency_bounds_requests_in_flight(clock: ManualClock) -> None:
    in_flight = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200, json=[])

    client = WooCommerceClient(settings(concurrency=3, max_requests_per_second=100), account="b",
                               transport=httpx.MockTransport(handler), clock=clock)
    await asyncio.gather(*(client.list("orders", {"page": i}) for i in range(1, 13)))
    assert peak == 3


async def test_a_site_refusing_orderby_modified_is_read_by_halving_windows(clock: ManualClock) -> None:
    shop = FakeShop({i: T0 + timedelta(seconds=7 * i) for i in range(1, 1001)})
    shop.rows.update({5000 + i: T0 + timedelta(seconds=3000) for i in range(130)})  # 130 in one second
    plain = shop.handler

    def old_woocommerce(request: httpx.Request) -> httpx.Response:
        if "orderby=modified" in str(request.url):
            return httpx.Response(400, json={"code": "rest_invalid_param", "message": "Invalid parameter(s): orderby",
                                             "data": {"status": 400, "params": {"orderby": "orderby is not one of "
                                                                                "date, id, include, title, slug."}}})
        return plain(request)

    client = WooCommerceClient(settings(concurrency=3), account="boutique",
                               transport=httpx.MockTransport(old_woocommerce), clock=clock)
    ids: list[int] = []
    seen: set[int] = set()
    async for batch in modified_windows(client, "orders", start=None, end=T0 + timedelta(days=1), concurrency=3):
        ids.extend(item["id"] for item in batch.items)
        seen.update(item["id"] for item in batch.items)
        assert [i for i, at in shop.rows.items() if at < batch.low_water and i not in seen] == []
    assert sorted(set(ids)) == sorted(shop.rows)
    assert all(r["orderby"] in ("id", "date") for r in shop.requests)
    # 1,130 orders need 12 pages at least; cutting by time without knowing the spread costs more,
    # but a bounded amount (here about 5x), not a request per second of history.
    assert len(shop.requests) <= 72
