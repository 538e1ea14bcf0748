"""The WooCommerce source against its in-process sandbox: backfill, increments, carts, auth, faults, store.

Expected values come from the generated shop's own records (what the shop holds), never from
the source's output: counts by status, totals as Decimal sums, ids by the sandbox's documented
mapping (customer key k is WordPress user k + 1; guests are keyed by their normalised email).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.clock import ManualClock
from connector.models import ConsentState, normalize_email
from connector.protocols import Page
from connector.sandbox.datagen import GeneratedShop, ShopSpec
from connector.sandbox.faults import FaultPlan
from connector.sandbox.records import ShopOrder
from connector.store import Store
from connectors.woocommerce.sandbox import SANDBOX_KEY, SANDBOX_SECRET, create_sandbox, order_id
from connectors.woocommerce.settings import WooCommerceSettings
from connectors.woocommerce.source import CustomerCursor, WooCommerceSource

CUSTOMERS = 80
UNPAID = ("pending", "failed", "checkout-draft")


def make_shop(customers: int = CUSTOMERS, seed: int = 11) -> GeneratedShop:
    return GeneratedShop(ShopSpec(name="boutique", seed=seed, customers=customers, invalid_email_rate=0.0))


def settings(url: str = "https://shop.test", **changes: Any) -> WooCommerceSettings:
    return WooCommerceSettings(url=url, consumer_key=SANDBOX_KEY, consumer_secret=SANDBOX_SECRET,
                               consent_meta_key="_newsletter_optin", consent_date_meta_key="_newsletter_optin_date",
                               concurrency=3, max_requests_per_second=100, **changes)


def guest_id(email: str) -> str:
    """A guest's documented id: sha256 of the normalised address, 20 hex digits."""
    return "woocommerce:boutique:guest:" + hashlib.sha256(normalize_email(email).encode()).hexdigest()[:20]


def all_orders(shop: GeneratedShop) -> list[ShopOrder]:
    orders: list[ShopOrder] = []
    after: int | None = None
    while page := shop.scan("orders", after=after, limit=500):
        orders.extend(page)  # type: ignore[arg-type]
        after = page[-1].key
    return orders


async def drain(pages: AsyncIterator[Page[Any]]) -> list[Page[Any]]:
    return [page async for page in pages]


def records(pages: list[Page[Any]]) -> list[Any]:
    return [record for page in pages for record in page.records]


async def test_backfill_reads_every_order_once_with_exact_money_and_guest_buyers(clock: ManualClock) -> None:
    shop = make_shop()
    sandbox = create_sandbox(shop=shop, clock=clock)
    source = WooCommerceSource("boutique", settings(), clock=clock, transport=sandbox.transport())
    pages = await drain(source.iter_orders(None))
    orders = records(pages)
    expected = [o for o in all_orders(shop) if o.status != "checkout-draft"]  # drafts are carts, not orders
    assert len(orders) == len({o.id for o in orders}) == len(expected)
    # HPOS-style ids: the API's own, sparse ids are kept as they are (the sandbox documents
    # id = 1000 + 3k + k % 2 for shop key k), never renumbered or assumed dense.
    native = sorted(int(o.id.rsplit(":", 1)[1]) for o in orders)
    assert native == sorted(1000 + 3 * o.key + o.key % 2 for o in expected)
    assert any(b - a > 1 for a, b in zip(native, native[1:], strict=False))
    assert sum((o.total for o in orders), Decimal(0)) == sum((o.total for o in expected), Decimal(0))
    refunded = sum((o.refunded_total for o in expected), Decimal(0))
    assert sum((o.refunded_total for o in orders), Decimal(0)) == refunded
    guests = {c.id: c for page in pages for c in page.customers}
    guest_orders = [o for o in expected if o.customer_key is None]
    assert guest_orders, "the generated shop should have guest orders"
    expected_guest_ids = {guest_id(o.email) for o in guest_orders}
    assert set(guests) == expected_guest_ids
    linked = {o.customer_id for o in orders if o.customer_id and ":guest:" in o.customer_id}
    assert linked == expected_guest_ids
    assert pages[-1].cursor is not None
    await source.aclose()


async def test_an_order_changed_after_the_backfill_arrives_by_cursor_with_its_buyer(clock: ManualClock) -> None:
    shop = make_shop()
    sandbox = create_sandbox(shop=shop, clock=clock)
    source = WooCommerceSource("boutique", settings(), clock=clock, transport=sandbox.transport())
    cursor = (await drain(source.iter_orders(None)))[-1].cursor
    clock.advance(3600)
    target = next(o for o in all_orders(shop) if o.customer_key is not None and o.status == "processing"
                  or o.customer_key is not None and o.status == "on-hold")
    shop.update("orders", target.key, clock.now(), status="completed")
    clock.advance(120)
    pages = await drain(source.iter_orders(cursor))
    changed = records(pages)
    assert [o.status.value for o in changed] == ["completed"]
    assert [c.id for page in pages for c in page.customers] == [f"woocommerce:boutique:{target.customer_key + 1}"]
    # Right after, the overlap (5 minutes behind the cursor) reads it again: the same version.
    again = await drain(source.iter_orders(pages[-1].cursor))
    assert records(again) == changed
    # Once a run starts more than the overlap after the change, its cursor leaves the change behind.
    clock.advance(600)
    third = await drain(source.iter_orders(again[-1].cursor))
    clock.advance(1)
    assert records(await drain(source.iter_orders(third[-1].cursor))) == []
    await source.aclose()


async def test_customers_backfill_then_new_signups_then_the_periodic_rescan(clock: ManualClock) -> None:
    shop = make_shop()
    sandbox = create_sandbox(shop=shop, clock=clock)
    source = WooCommerceSource("boutique", settings(), clock=clock, transport=sandbox.transport())
    pages = await drain(source.iter_customers(None))
    customers = records(pages)
    # Every generated customer plus the shop's admin (user 1, role administrator: staff).
    assert len(customers) == CUSTOMERS + 1
    assert [c.is_staff for c in customers if c.id == "woocommerce:boutique:1"] == [True]
    subscribed = {c.id for c in customers if c.consent.state is ConsentState.SUBSCRIBED}
    generated = [shop.get("customers", k) for k in range(1, CUSTOMERS + 1)]
    assert subscribed == {f"woocommerce:boutique:{c.key + 1}" for c in generated if c and c.consent == "subscribed"}
    cursor = CustomerCursor.load(pages[-1].cursor)
    assert cursor is not None and cursor.max_id == CUSTOMERS + 1

    clock.advance(3600)
    like_three = _fields_of(shop, "customers", 3)
    added = shop.add("customers", clock.now(), **{**like_three, "email": "new.person@example.org"})
    sandbox.log.clear()
    new = records(await drain(source.iter_customers(pages[-1].cursor)))
    assert [c.email for c in new] == ["new.person@example.org"]
    assert new[0].id == f"woocommerce:boutique:{added.key + 1}"
    assert sandbox.log.count(path_prefix="/wp-json/wc/v3/customers") == 1  # one page, newest first

    clock.advance(25 * 3600)  # past customer_full_scan_hours: everything again
    rescan = records(await drain(source.iter_customers(pages[-1].cursor)))
    assert len(rescan) == CUSTOMERS + 2
    await source.aclose()


def _fields_of(shop: GeneratedShop, kind: Any, key: int) -> dict[str, Any]:
    """A record's fields, to add a new record like it (the shop assigns key and times)."""
    import dataclasses

    record = shop.get(kind, key)
    assert record is not None
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)
            if f.name not in ("key", "created_at", "updated_at")}


async def test_unpaid_orders_become_carts_after_the_delay_and_recovered_ones_close(clock: ManualClock) -> None:
    shop = make_shop()
    sandbox = create_sandbox(shop=shop, clock=clock)
    source = WooCommerceSource("boutique", settings(cart_delay_minutes=60), clock=clock, transport=sandbox.transport())
    unpaid = [o for o in all_orders(shop) if o.status in UNPAID or (o.status == "cancelled" and o.processed_at is None)]
    pages = await drain(source.iter_carts(None))
    carts = records(pages)
    assert sorted(c.id for c in carts) == sorted(f"woocommerce:boutique:{order_id(o.key)}" for o in unpaid)
    assert all(c.completed_at is None for c in carts)
    cursor = pages[-1].cursor

    # A new checkout left pending 10 minutes ago is not abandoned yet; after the delay it is.
    clock.advance(600)
    fresh = shop.add("orders", clock.now(), **{**_fields_of(shop, "orders", unpaid[0].key), "status": "pending"})
    clock.advance(600)
    first = await drain(source.iter_carts(cursor))
    assert records(first) == []
    clock.advance(3600)
    later = await drain(source.iter_carts(first[-1].cursor if first else cursor))
    assert [c.id for c in records(later)] == [f"woocommerce:boutique:{order_id(fresh.key)}"]

    # It gets paid two hours after it was created: a recovered cart.
    clock.advance(120)
    shop.update("orders", fresh.key, clock.now(), status="processing", processed_at=clock.now(), financial="paid")
    clock.advance(3700)
    recovered = records(await drain(source.iter_carts(later[-1].cursor)))
    assert [(c.id, c.completed_at is not None) for c in recovered] == [
        (f"woocommerce:boutique:{order_id(fresh.key)}", True)]
    await source.aclose()


async def test_stripped_authorization_header_falls_back_to_query_keys(clock: ManualClock) -> None:
    sandbox = create_sandbox(shop=make_shop(20), clock=clock, strip_authorization=True)
    source = WooCommerceSource("boutique", settings(), clock=clock, transport=sandbox.transport())
    customers = records(await drain(source.iter_customers(None)))
    assert len(customers) == 21
    assert source.client.auth.mode == "query"
    await source.aclose()


async def test_plain_http_shop_is_read_with_oauth1_signatures(clock: ManualClock) -> None:
    # The sandbox verifies signatures with its own port of WooCommerce's algorithm.
    sandbox = create_sandbox(shop=make_shop(20), clock=clock, https=False, base_url="http://shop.test")
    source = WooCommerceSource("boutique", settings(url="http://shop.test"), clock=clock,
                               transport=sandbox.transport())
    orders = records(await drain(source.iter_orders(None)))
    assert orders and source.client.auth.mode == "oauth1"
    assert sandbox.log.count(status=401) == 0
    await source.aclose()


async def test_faults_and_a_rate_limited_host_lose_nothing(clock: ManualClock) -> None:
    shop = make_shop(40)
    plan = FaultPlan(seed=3, rate_429=0.05, rate_5xx=0.05, rate_timeout=0.03, rate_drop=0.03, rate_malformed=0.03)
    # The host also allows only 8 requests a second; the client asks for up to 100.
    sandbox = create_sandbox(shop=shop, clock=clock, faults=plan, rate_limit=(8, 1.0))
    # Ten orders a request: enough requests for the plan to hit several of them.
    source = WooCommerceSource("boutique", settings(), clock=clock, transport=sandbox.transport(), per_page=10)
    orders = records(await drain(source.iter_orders(None)))
    expected = [o for o in all_orders(shop) if o.status != "checkout-draft"]
    assert len({o.id for o in orders}) == len(expected)
    assert sum(1 for e in sandbox.log.entries if e.fault) > 0
    assert sandbox.log.count(status=429) > 0
    await source.aclose()


async def test_pages_commit_to_the_store_with_guests_and_quarantine(tmp_path: Path, clock: ManualClock) -> None:
    shop = make_shop()
    clock.advance(60)
    shop.update("customers", 5, clock.now(), email="broken-address")
    clock.advance(60)
    sandbox = create_sandbox(shop=shop, clock=clock)
    source = WooCommerceSource("boutique", settings(), clock=clock, transport=sandbox.transport())
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}", clock=clock)
    for stream, pages in (("customers", source.iter_customers(None)), ("orders", source.iter_orders(None))):
        async for page in pages:
            with store.transaction() as tx:
                tx.upsert_customers(page.customers)
                if stream == "customers":
                    tx.upsert_customers(page.records)
                else:
                    tx.upsert_orders(page.records)
                tx.add_quarantine(page.quarantined)
                if page.cursor is not None:
                    tx.set_cursor("shop:boutique", stream, page.cursor)
    rejected = [(q.record_id, q.field) for q in store.list_quarantine(limit=1000) if q.action == "rejected"]
    assert ("woocommerce:boutique:6", "email") in rejected
    guests = {o.email for o in all_orders(shop) if o.customer_key is None and o.status != "checkout-draft"}
    assert store.count("customers") == CUSTOMERS + 1 - 1 + len({normalize_email(e) for e in guests})
    assert json.loads(store.get_cursor("shop:boutique", "customers") or "{}")["max_id"] == CUSTOMERS + 1
    store.close()
    await source.aclose()


@pytest.mark.parametrize("cursor", ["yesterday", '{"max_id": 3}'])
async def test_a_corrupt_cursor_is_a_clear_state_error(cursor: str, clock: ManualClock) -> None:
    from connector.errors import StateError

    sandbox = create_sandbox(shop=make_shop(5), clock=clock)
    source = WooCommerceSource("boutique", settings(), clock=clock, transport=sandbox.transport())
    with pytest.raises(StateError, match="cursor"):
        await drain(source.iter_customers(cursor) if cursor.startswith("{") else source.iter_orders(cursor))
    await source.aclose()



def test_connector_sandbox_serve_woocommerce_serves_on_loopback_and_the_source_reads_it(tmp_path: Path) -> None:
    """The CLI serves the sandbox on 127.0.0.1 over plain HTTP; the source, signing with OAuth 1.0a, reads it."""
    import asyncio
    import os
    import re
    import signal
    import subprocess
    import sys

    from connector.clock import SystemClock

    command = [str(Path(sys.executable).parent / "connector"), "sandbox", "serve", "woocommerce", "--customers", "30"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stdout is not None
        banner = ""
        while "Ctrl-C" not in banner and (line := process.stdout.readline()):
            banner += line
        url = re.findall(r'url = "(http://127\.0\.0\.1:\d+)"', banner)[0]
        assert SANDBOX_KEY in banner and "OAuth 1.0a" in banner

        async def read() -> list[Any]:
            source = WooCommerceSource("boutique", settings(url=url), clock=SystemClock())
            try:
                return records(await drain(source.iter_customers(None)))
            finally:
                await source.aclose()

        customers = asyncio.run(read())
        # The CLI generates the documented default shop (seed 1); the admin is user 1.
        shop = GeneratedShop(ShopSpec(name="sandbox", seed=1, customers=30))
        expected = {"woocommerce:boutique:1"} | {
            f"woocommerce:boutique:{k + 1}" for k in range(1, 31) if _valid_email(shop.get("customers", k).email)}
        assert {c.id for c in customers} == expected
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def _valid_email(value: str) -> bool:
    try:
        normalize_email(value)
    except ValueError:
        return False
    return True
