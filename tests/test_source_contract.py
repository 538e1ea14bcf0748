"""One contract, every source: what the pipeline may rely on, whatever the platform.

Each source reads the same generated shop through its own in-process sandbox. The contract:

* it is a :class:`~connector.protocols.Source`;
* every page belongs to the stream asked for and holds that stream's canonical model;
* every id is ``<platform>:<source name>:<native id>``;
* a backfill ends on a page with a cursor, and every shop record is either read or quarantined
  with its id and a reason (nothing silently dropped);
* an order changed after the backfill comes back on the next increment from the saved cursor,
  in its new version;
* ``aclose`` releases the client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from connector.clock import ManualClock
from connector.models import Cart, Customer, Order
from connector.protocols import Page, Source, Stream, iter_stream
from connector.sandbox.datagen import GeneratedShop, ShopSpec

CUSTOMERS = 40
NAME = "contract"


@dataclass(frozen=True)
class Platform:
    name: str
    build: Callable[[GeneratedShop, ManualClock], Source]


def _shopify(shop: GeneratedShop, clock: ManualClock) -> Source:
    from connectors.shopify.sandbox import SANDBOX_TOKEN, create_sandbox
    from connectors.shopify.settings import ShopifySettings
    from connectors.shopify.source import ShopifySource

    sandbox = create_sandbox(shop=shop, clock=clock)
    return ShopifySource(NAME, ShopifySettings(shop=NAME, access_token=SANDBOX_TOKEN), clock=clock,
                         transport=sandbox.transport(), bulk=False)


def _woocommerce(shop: GeneratedShop, clock: ManualClock) -> Source:
    from connectors.woocommerce.sandbox import SANDBOX_KEY, SANDBOX_SECRET, create_sandbox
    from connectors.woocommerce.settings import WooCommerceSettings
    from connectors.woocommerce.source import WooCommerceSource

    sandbox = create_sandbox(shop=shop, clock=clock)
    settings = WooCommerceSettings(url="https://shop.test", consumer_key=SANDBOX_KEY, consumer_secret=SANDBOX_SECRET,
                                   max_requests_per_second=100)
    return WooCommerceSource(NAME, settings, clock=clock, transport=sandbox.transport())


PLATFORMS = [Platform("shopify", _shopify), Platform("woocommerce", _woocommerce)]
MODELS: dict[Stream, type[Any]] = {Stream.CUSTOMERS: Customer, Stream.ORDERS: Order, Stream.CARTS: Cart}


async def _read(source: Source, stream: Stream, since: str | None) -> list[Page[Any]]:
    return [page async for page in iter_stream(source, stream, since)]


@pytest.fixture(params=PLATFORMS, ids=lambda p: p.name)
def platform(request: pytest.FixtureRequest) -> Platform:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def shop() -> GeneratedShop:
    return GeneratedShop(ShopSpec(name=NAME, seed=21, customers=CUSTOMERS))


@pytest.mark.parametrize("stream", list(Stream))
async def test_backfill_pages_are_typed_namespaced_and_end_with_a_cursor(
    platform: Platform, shop: GeneratedShop, clock: ManualClock, stream: Stream
) -> None:
    source = platform.build(shop, clock)
    assert isinstance(source, Source)
    pages = await _read(source, stream, None)
    assert pages and pages[-1].cursor is not None
    prefix = f"{platform.name}:{NAME}:"
    for page in pages:
        assert page.stream is stream
        assert all(isinstance(record, MODELS[stream]) for record in page.records)
        assert all(record.id.startswith(prefix) for record in page.records)
        assert all(entry.record_id.startswith(prefix) and entry.reason for entry in page.quarantined)
        assert all(isinstance(customer, Customer) and customer.id.startswith(prefix) for customer in page.customers)
    await source.aclose()


async def test_every_customer_is_read_or_quarantined(platform: Platform, shop: GeneratedShop,
                                                     clock: ManualClock) -> None:
    source = platform.build(shop, clock)
    pages = await _read(source, Stream.CUSTOMERS, None)
    read = {record.id for page in pages for record in page.records}
    rejected = {entry.record_id for page in pages for entry in page.quarantined if entry.action == "rejected"}
    # At least every generated customer (a platform may add its own accounts, e.g. a site admin).
    assert len(read | rejected) >= CUSTOMERS
    assert not read & rejected
    await source.aclose()


async def test_a_changed_order_comes_back_from_the_saved_cursor(platform: Platform, shop: GeneratedShop,
                                                               clock: ManualClock) -> None:
    source = platform.build(shop, clock)
    cursor = (await _read(source, Stream.ORDERS, None))[-1].cursor
    clock.advance(3600)
    target = next(o for o in (shop.get("orders", k) for k in range(1, 200)) if o and o.status == "completed")
    shop.update("orders", target.key, clock.now(), discount_codes=("CONTRACT10",))
    clock.advance(60)
    pages = await _read(source, Stream.ORDERS, cursor)
    changed = [record for page in pages for record in page.records]
    fresh = [o for o in changed if o.updated_at > clock.now() - timedelta(hours=1)]
    assert [[code.lower() for code in o.discount_codes] for o in fresh] == [["contract10"]]
    # Anything else is the overlap re-reading the last minutes before the cursor: old, unchanged versions.
    saved = datetime.fromisoformat(cursor.replace("Z", "+00:00")) if cursor else None
    assert saved is not None and all(o.updated_at <= saved for o in changed if o not in fresh)
    assert pages[-1].cursor is not None and pages[-1].cursor != cursor
    await source.aclose()
