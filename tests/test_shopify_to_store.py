"""End to end, in-process: Shopify sandbox -> ShopifySource -> state store.

Each page is committed together with its quarantine entries and its cursor, as the pipeline
will do it; these tests check that bad records end up quarantined with their id and reason
while every good one is stored, and that an update made after the backfill arrives through the
incremental cursor without duplicating anything.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from connector.clock import ManualClock
from connector.models import Customer
from connector.protocols import Page
from connector.sandbox.datagen import GeneratedShop, ShopSpec
from connector.store import Store
from connectors.shopify.sandbox import SANDBOX_TOKEN, create_sandbox
from connectors.shopify.settings import ShopifySettings
from connectors.shopify.source import ShopifySource

CUSTOMERS = 60


async def pull_customers(source: ShopifySource, store: Store, since: str | None) -> list[Page[Customer]]:
    pages = []
    async for page in source.iter_customers(since):
        with store.transaction() as tx:
            tx.upsert_customers(page.records)
            tx.add_quarantine(page.quarantined)
            if page.cursor is not None:
                tx.set_cursor("shop:acme", "customers", page.cursor)
        pages.append(page)
    return pages


async def test_bad_customers_are_quarantined_and_the_rest_stored_then_updates_arrive(
    tmp_path: Path, clock: ManualClock
) -> None:
    # No randomly invalid emails: the only bad records are the two planted below.
    shop = GeneratedShop(ShopSpec(name="acme", seed=5, customers=CUSTOMERS, invalid_email_rate=0.0))
    sandbox = create_sandbox(shop=shop, clock=clock)
    clock.advance(60)
    shop.update("customers", 7, clock.now(), email="not-an-email")
    shop.update("customers", 9, clock.now(), email="")
    clock.advance(3600)

    settings = ShopifySettings(shop="acme", access_token=SANDBOX_TOKEN)
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}", clock=clock)
    for bulk in (True, False):  # the bulk backfill and the paginated one must store the same
        source = ShopifySource("acme", settings, clock=clock, transport=sandbox.transport(), bulk=bulk)
        await pull_customers(source, store, since=None)
        await source.aclose()

        assert store.count("customers") == CUSTOMERS - 2
        rejected = [q for q in store.list_quarantine(limit=1000) if q.action == "rejected"]
        assert sorted((q.record_id, q.field) for q in rejected) == [
            ("shopify:acme:7", "email"),
            ("shopify:acme:9", "email"),
        ]
        assert all(q.reason for q in rejected)
        assert store.get_customer("shopify:acme:7") is None
        assert store.get_customer("shopify:acme:8") is not None

    cursor = store.get_cursor("shop:acme", "customers")
    assert cursor is not None

    # Later: one customer changes at the shop; the incremental run brings exactly that change.
    clock.advance(600)
    shop.update("customers", 12, clock.now(), first_name="Renamed")
    clock.advance(600)
    source = ShopifySource("acme", settings, clock=clock, transport=sandbox.transport())
    pages = await pull_customers(source, store, since=cursor)
    await source.aclose()

    pulled = {c.id for page in pages for c in page.records}
    assert "shopify:acme:12" in pulled
    assert store.get_customer("shopify:acme:12").first_name == "Renamed"  # type: ignore[union-attr]
    assert store.count("customers") == CUSTOMERS - 2  # updated in place, never duplicated
    new_cursor = store.get_cursor("shop:acme", "customers")
    assert new_cursor is not None
    # The cursor is a timestamp no later than the run itself: it can never skip a later write.
    assert cursor < new_cursor
    assert datetime.fromisoformat(new_cursor) <= clock.now()
