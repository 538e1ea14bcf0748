"""The Shopify sandbox against the Admin API contract: schema conformance, paging, search, cost, bulk, scopes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from connector.clock import ManualClock
from connector.platforms import load_platforms
from connector.sandbox.app import SandboxApp
from connector.sandbox.memory import MemoryShop
from connector.sandbox.records import Product, ShopCart, ShopCustomer, ShopLine, ShopOrder, ShopRefund
from connector.sandbox.serve import ServedSandbox
from connectors.shopify.sandbox import SANDBOX_TOKEN, create_sandbox, engine_of
from connectors.shopify.sandbox_conformance import conformance_problems
from connectors.shopify.sandbox_resolvers import _TABLES
from connectors.shopify.sandbox_schema import admin_schema

URL = "/admin/api/2025-01/graphql.json"
NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
PRODUCTS = [Product(i, 100 + i, f"SKU-{i}", f"Product {i}", ("T-shirt", "Mug", "Poster")[i % 3], "Home", "Acme",
                    Decimal(10 + i)) for i in range(1, 6)]
CONSENTS = ("subscribed", "not_subscribed", "unsubscribed", "pending")


def _customer(k: int) -> ShopCustomer:
    created = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=k)
    # Updates out of key order, with one tie (keys 4 and 19) to exercise the key tie-break.
    updated = datetime(2025, 6, 1, tzinfo=UTC) + timedelta(days=(k * 7) % 30, minutes=k)
    updated = datetime(2025, 6, 29, tzinfo=UTC) if k in (4, 19) else updated
    has_address = k % 5 != 0
    return ShopCustomer(
        k, "not-an-email" if k == 13 else f"User{k}@Example.com", f"First{k}", f"Last{k}" if k % 4 else None,
        f"+3361234{k:04d}" if k % 2 else None, ("FR" if k % 2 else "CA") if has_address else None,
        ("ON" if k % 2 == 0 else "Île-de-France") if has_address else None,
        "Paris" if has_address else None, "75001" if has_address else None, f"{k} rue" if has_address else None,
        "Acme SA" if k % 6 == 0 else None, "fr-FR" if k % 3 else None, ("vip",) if k % 3 == 0 else (),
        CONSENTS[k % 4], created if k % 4 != 1 else None, date(1990, 1 + k % 12, 1) if k % 2 else None,
        ("gold", "silver")[k % 2] if k % 3 == 1 else None, created, updated)


def _order(k: int) -> ShopOrder:
    created = NOW - timedelta(days=5 * k)
    lines = tuple(ShopLine(PRODUCTS[(k + i) % 5], 1 + (k + i) % 3, PRODUCTS[(k + i) % 5].price,
                           Decimal("1.50") if i == 0 and k % 2 else Decimal(0)) for i in range(1 + k % 3))
    refunds = (ShopRefund(created + timedelta(days=1), Decimal("5.00"), ((0, 1),)),) if k % 6 == 0 else ()
    return ShopOrder(k, 1000 + k, None if k % 7 == 0 else 1 + k % 10, f"buyer{k}@example.com",
                     ("USD", "EUR", "GBP")[k % 3], "completed" if k % 2 else "processing",
                     "partially_refunded" if refunds else "paid", created, created + timedelta(hours=k), created,
                     None, k == 3, ("web", "pos", "mobile")[k % 3], ("SAVE10",) if k % 4 == 0 else (), lines,
                     Decimal("4.00"), Decimal("2.00"), refunds, "FR" if k % 2 else None, "Lyon", "69001")


def _cart(k: int) -> ShopCart:
    created = NOW - timedelta(days=k)
    return ShopCart(k, k if k % 2 else None, f"cart{k}@example.com", "EUR", f"tok{k:04d}",
                    (ShopLine(PRODUCTS[k % 5], 1, PRODUCTS[k % 5].price),), created, created + timedelta(hours=1),
                    created + timedelta(hours=2) if k % 4 == 0 else None)


CUSTOMERS = [_customer(k) for k in range(1, 31)]
ORDERS = [_order(k) for k in range(1, 25)]
CARTS = [_cart(k) for k in range(1, 9)]


def make_shop() -> MemoryShop:
    return MemoryShop("acme", "USD", catalog=PRODUCTS, customers=CUSTOMERS, orders=ORDERS, carts=CARTS)


@pytest.fixture
def sandbox(clock: ManualClock) -> SandboxApp:
    return create_sandbox(shop=make_shop(), clock=clock, bulk_startup_seconds=1, bulk_seconds_per_10k=10)


async def gql(sandbox: SandboxApp, query: str, variables: dict[str, Any] | None = None, *,
              valid: bool = True) -> dict[str, Any]:
    """POST a query, assert HTTP 200 and that the body conforms to the schema (for a valid query)."""
    async with sandbox.client(headers={"X-Shopify-Access-Token": SANDBOX_TOKEN}) as client:
        response = await client.post(URL, json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body = response.json()
    if valid:
        assert conformance_problems(admin_schema(), query, body) == []
    return body


async def test_auth_version_and_body_errors(sandbox: SandboxApp) -> None:
    async with sandbox.client() as client:
        anonymous = await client.post(URL, json={"query": "{ shop { name } }"})
        wrong = await client.post(URL, json={"query": "{ shop { name } }"}, headers={"X-Shopify-Access-Token": "x"})
        ok = {"X-Shopify-Access-Token": SANDBOX_TOKEN}
        unknown = await client.post("/admin/api/2019-13/graphql.json", json={"query": "{ shop { name } }"}, headers=ok)
        empty = await client.post(URL, json={"variables": {}}, headers=ok)
        raw = await client.post(URL, content="{ shop { name } }", headers={**ok, "Content-Type": "application/graphql"})
    expected = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
    assert (anonymous.status_code, anonymous.json()) == (wrong.status_code, wrong.json()) == (401, expected)
    assert (unknown.status_code, empty.status_code) == (404, 400)
    assert raw.json()["data"] == {"shop": {"name": "acme"}}
    assert raw.headers["x-shopify-api-version"] == "2025-01"


BROAD = """
query Broad($first: Int!) {
  customers(first: $first) { edges { cursor node { ...C } } pageInfo { hasNextPage hasPreviousPage startCursor } }
  orders(first: $first, sortKey: UPDATED_AT) { nodes {
    id name email createdAt updatedAt processedAt cancelledAt cancelReason closed test displayFinancialStatus
    displayFulfillmentStatus currencyCode presentmentCurrencyCode discountCodes sourceName tags note
    subtotalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
    totalPriceSet { shopMoney { amount currencyCode } } totalRefundedSet { shopMoney { amount } }
    totalShippingPriceSet { shopMoney { amount } } totalTaxSet { shopMoney { amount } }
    totalDiscountsSet { shopMoney { amount } } currentTotalPriceSet { presentmentMoney { amount } }
    channelInformation { channelDefinition { handle channelName } } customer { id }
    billingAddress { countryCodeV2 city zip } refunds { createdAt totalRefundedSet { shopMoney { amount } } }
    lineItems(first: 5) { nodes { id name title sku quantity currentQuantity refundableQuantity vendor
      product { id productType vendor title } variant { id sku price }
      originalUnitPriceSet { shopMoney { amount } } discountedUnitPriceSet { shopMoney { amount } }
      totalDiscountSet { presentmentMoney { amount currencyCode } } } }
    fulfillments { id } riskLevel totalWeight app { id } paymentGatewayNames
  } }
  abandonedCheckouts(first: $first) { nodes {
    id name abandonedCheckoutUrl createdAt updatedAt completedAt discountCodes note customer { id email }
    totalPriceSet { shopMoney { amount currencyCode } } lineItems(first: 3) { nodes { id title quantity
      product { id } variant { id } originalUnitPriceSet { shopMoney { amount } } } }
  } }
  customersCount { count precision }
  ordersCount(query: "test:false") { count precision }
  shop { id name email currencyCode myshopifyDomain ianaTimezone plan { displayName shopifyPlus }
         primaryDomain { host url } billingAddress { country } features { giftCards } }
  currentAppInstallation { accessScopes { handle } app { title } }
}
fragment C on Customer {
  id email firstName lastName phone createdAt updatedAt tags locale note state verifiedEmail numberOfOrders
  displayName legacyResourceId image { url } statistics { predictedSpendTier } lifetimeDuration
  amountSpent { amount currencyCode }
  defaultAddress { address1 city zip company countryCodeV2 provinceCode province formatted formattedArea }
  emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }
  birthday: metafield(namespace: "facts", key: "birthday") { value type jsonValue }
  tier: metafield(namespace: "loyalty", key: "tier") { value type }
  metafields(first: 5, keys: ["facts.birthday"]) {
    nodes { namespace key value owner { __typename ... on Customer { id } } } }
  events(first: 2) { nodes { id } }
}
"""


async def test_a_broad_query_conforms_to_the_schema(sandbox: SandboxApp) -> None:
    body = await gql(sandbox, BROAD, {"first": 8})  # 952 points: just under the single-query limit
    assert "errors" not in body
    data = body["data"]
    customers = {c["node"]["id"]: c["node"] for c in data["customers"]["edges"]}
    ann = customers["gid://shopify/Customer/1"]
    assert ann["birthday"] == {"value": "1990-02-01", "type": "date", "jsonValue": "1990-02-01"}
    assert ann["tier"] == {"value": "silver", "type": "single_line_text_field"}
    assert customers["gid://shopify/Customer/5"]["defaultAddress"] is None
    assert data["customersCount"] == {"count": 30, "precision": "EXACT"}
    assert data["ordersCount"]["count"] == 23
    order = next(o for o in data["orders"]["nodes"] if o["name"] == "#1024")
    assert order["refunds"][0]["totalRefundedSet"]["shopMoney"]["amount"] == "5.0"
    assert order["presentmentCurrencyCode"] == "USD" and order["currencyCode"] == "USD"
    cart = data["abandonedCheckouts"]["nodes"][0]
    assert re.fullmatch(r"https://acme\.myshopify\.com/\d+/checkouts/ac/tok0001/recover", cart["abandonedCheckoutUrl"])
    invalid = await gql(sandbox, '{ c: customer(id: "gid://shopify/Customer/13") { e: emailMarketingConsent { '
                                 's: marketingState } } }')
    assert invalid["data"] == {"c": {"e": {"s": "INVALID"}}}
    assert data["currentAppInstallation"]["accessScopes"] == [
        {"handle": h} for h in ("read_all_orders", "read_customers", "read_orders", "read_products")]


def test_every_modelled_field_is_in_the_schema_and_the_registry_knows_the_sandbox() -> None:
    assert load_platforms()["shopify"].load_sandbox() is create_sandbox
    schema = admin_schema()
    for type_name, table in _TABLES.items():
        type_ = schema.get_type(type_name)
        assert type_ is not None, type_name
        assert set(table) <= set(type_.fields), (type_name, set(table) - set(type_.fields))  # type: ignore[union-attr]


PAGE = """query($first: Int, $last: Int, $after: String, $before: String, $reverse: Boolean, $query: String) {
  customers(first: $first, last: $last, after: $after, before: $before, reverse: $reverse, query: $query,
            sortKey: UPDATED_AT) {
    edges { cursor node { id updatedAt } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""


def _ids(body: dict[str, Any]) -> list[int]:
    return [int(e["node"]["id"].rsplit("/", 1)[1]) for e in body["data"]["customers"]["edges"]]


async def walk(sandbox: SandboxApp, backwards: bool = False, **variables: Any) -> tuple[list[int], list[Any]]:
    """Every customer key of PAGE, page by page (forwards, or backwards with ``last``), and each pageInfo."""
    keys: list[int] = []
    infos: list[dict[str, Any]] = []
    cursor = None
    while True:
        body = await gql(sandbox, PAGE, {**variables, ("before" if backwards else "after"): cursor})
        info = body["data"]["customers"]["pageInfo"]
        keys, cursor = (_ids(body) + keys, info["startCursor"]) if backwards else (keys + _ids(body), info["endCursor"])
        infos.append(info)
        if not info["hasPreviousPage" if backwards else "hasNextPage"]:
            return keys, infos


async def test_paging_forward_backward_and_reverse(sandbox: SandboxApp) -> None:
    expected = [c.key for c in sorted(CUSTOMERS, key=lambda c: (c.updated_at, c.key))]
    seen, pages = await walk(sandbox, first=7)
    assert seen == expected
    assert [p["hasPreviousPage"] for p in pages] == [False, True, True, True, True]
    back, back_pages = await walk(sandbox, backwards=True, last=7)
    assert back == expected
    assert [p["hasNextPage"] for p in back_pages] == [False, True, True, True, True]
    assert _ids(await gql(sandbox, PAGE, {"first": 30, "reverse": True})) == expected[::-1]
    middle = await gql(sandbox, PAGE, {"first": 3, "after": pages[0]["endCursor"], "reverse": False})
    assert _ids(middle) == expected[7:10]


@pytest.mark.parametrize("query, keep", [
    ("updated_at:>'2025-06-10T00:00:00Z'", lambda c: c.updated_at > datetime(2025, 6, 10, tzinfo=UTC)),
    ("updated_at:>='2025-06-29T00:00:00Z'", lambda c: c.updated_at >= datetime(2025, 6, 29, tzinfo=UTC)),
    ("updated_at:<'2025-06-08T00:00:00Z'", lambda c: c.updated_at < datetime(2025, 6, 8, tzinfo=UTC)),
    ("updated_at:>'2025-06-05' AND updated_at:<=\"2025-06-20T00:05:00Z\"",
     lambda c: datetime(2025, 6, 5, tzinfo=UTC) < c.updated_at <= datetime(2025, 6, 20, 0, 5, tzinfo=UTC)),
    ("updated_at:>2025-06-05 email:user2@example.com", lambda c: c.key == 2),
])
async def test_search_returns_exactly_the_expected_set(sandbox: SandboxApp, query: str, keep: Any) -> None:
    expected = [c.key for c in sorted(CUSTOMERS, key=lambda c: (c.updated_at, c.key)) if keep(c)]
    assert expected
    assert _ids(await gql(sandbox, PAGE, {"first": 250, "query": query})) == expected
    assert (await walk(sandbox, first=4, query=query))[0] == expected  # and the same set page by page
    count = await gql(sandbox, "query($q: String) { customersCount(query: $q) { count } }", {"q": query})
    assert count["data"]["customersCount"]["count"] == len(expected)


async def test_order_filters_sorts_and_search_warnings(sandbox: SandboxApp) -> None:
    query = """{ orders(first: 50, sortKey: CREATED_AT, query: "created_at:>='2025-12-01T00:00:00Z' colour:red") {
      nodes { name createdAt } } }"""
    body = await gql(sandbox, query)
    expected = [f"#{o.number}" for o in sorted(ORDERS, key=lambda o: (o.created_at, o.key))
                if o.created_at >= datetime(2025, 12, 1, tzinfo=UTC)]
    assert [n["name"] for n in body["data"]["orders"]["nodes"]] == expected
    assert body["extensions"]["search"][0]["warnings"] == [
        {"field": "colour", "message": "Invalid search field for this query."}]
    refused = await gql(sandbox, "{ customers(first: 5, sortKey: NAME) { nodes { id } } }")
    assert refused["errors"][0]["extensions"]["code"] == "SANDBOX_UNSUPPORTED"


async def test_page_size_and_invalid_queries_are_refused_like_shopify(sandbox: SandboxApp) -> None:
    too_big = await gql(sandbox, "{ customers(first: 251) { nodes { id } } }")
    assert too_big["data"] is None
    assert too_big["errors"][0]["extensions"]["code"] == "argumentLiteralsIncompatible"
    assert too_big["errors"][0]["path"] == ["customers"]
    no_size = await gql(sandbox, "{ orders { nodes { id } } }")
    assert no_size["errors"][0]["message"] == "you must provide one of first or last"
    assert no_size["extensions"]["cost"]["requestedQueryCost"] == 2
    invalid = await gql(sandbox, "{ customers(first: 2) { nodes { id nope } } }", valid=False)
    assert "data" not in invalid
    assert invalid["errors"][0]["extensions"]["code"] == "undefinedField"
    assert invalid["errors"][0]["locations"] == [{"line": 1, "column": 36}]
    syntax = await gql(sandbox, "{ customers(first: 2) { nodes { id }", valid=False)
    assert syntax["errors"][0]["extensions"]["code"] == "parseError"


async def test_cost_by_hand(sandbox: SandboxApp) -> None:
    query = "{ customers(first: 10) { nodes { id email defaultAddress { city } } } }"
    body = await gql(sandbox, query)
    # requested: connection 2 + first 10 x (Customer object 1 + defaultAddress object 1) = 22; scalars are 0.
    # actual: customers 1..10 came back; 5 and 10 have no address: 2 + 10 x 1 + 8 x 1 = 20.
    assert body["extensions"]["cost"]["requestedQueryCost"] == 22
    assert body["extensions"]["cost"]["actualQueryCost"] == 20
    assert body["extensions"]["cost"]["throttleStatus"] == {
        "maximumAvailable": 2000.0, "currentlyAvailable": 1980.0, "restoreRate": 100.0}
    assert sandbox.log.entries[-1].cost == 20
    nested = "{ customers(first: 250) { nodes { id orders(first: 250) { nodes { id } } } } }"
    over = await gql(sandbox, nested)  # 2 + 250 x (1 + 2 + 250 x 1) = 63252 > 1000
    assert over["errors"][0]["extensions"] == {"code": "MAX_COST_EXCEEDED", "cost": 63252, "maxCost": 1000,
                                               "documentation": "https://shopify.dev/api/usage/rate-limits"}
    assert over["errors"][0]["message"].startswith("Query cost is 63252, which exceeds the single query max")


async def test_the_bucket_empties_under_a_burst_and_refills(sandbox: SandboxApp, clock: ManualClock) -> None:
    # requested 2 + 249 x (1 + 1 + 1) = 749; actual 2 + 30 x (1 + 1) + 25 addresses = 87 (refund 662); the
    # 25 addresses: every customer but 5, 10, 15, 20, 25 (30 keeps one for its company).
    query = "{ customers(first: 249) { nodes { id defaultAddress { city } amountSpent { amount } } } }"
    available = []
    for _ in range(30):
        body = await gql(sandbox, query)
        cost = body["extensions"]["cost"]
        available.append(cost["throttleStatus"]["currentlyAvailable"])
        if "errors" in body:
            break
    assert body["errors"] == [{"message": "Throttled", "extensions": {
        "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}]
    assert "data" not in body and cost["actualQueryCost"] is None and cost["requestedQueryCost"] == 749
    assert available[:3] == [2000.0 - 87, 2000.0 - 2 * 87, 2000.0 - 3 * 87]
    assert available[-1] == available[-2] < 749 <= available[-2] + 87  # the throttled request took nothing
    clock.advance(2.5)  # restores 250 points at 100/s
    after = await gql(sandbox, "{ shop { name } }")
    assert after["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == available[-1] + 250 - 1
    clock.advance(3600)
    full = await gql(sandbox, "{ shop { name } }")
    assert full["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 2000.0 - 1


BULK_QUERIES = {
    "orders": """{ orders(query: "test:false") { edges { node { id name totalPriceSet { shopMoney { amount } }
      lineItems { edges { node { id sku quantity } } } } } } }""",
    "customers": """{ customers { edges { node { id email tags defaultAddress { city countryCodeV2 } ...Consent
      b: metafield(namespace: "facts", key: "birthday") { value } orders { edges { node { id name } } } } } } }
      fragment Consent on Customer { emailMarketingConsent { marketingState consentUpdatedAt } }""",
    "abandonedCheckouts": """{ abandonedCheckouts { edges { node { id abandonedCheckoutUrl customer { id email }
      lineItems { edges { node { id title product { productType } } } } } } } }""",
}
BULK = f'''mutation {{ bulkOperationRunQuery(query: """{BULK_QUERIES["orders"]}""")
  {{ bulkOperation {{ id status }} userErrors {{ field message code }} }} }}'''
STATUS = "{ currentBulkOperation { id status errorCode objectCount rootObjectCount fileSize url partialDataUrl " \
         "createdAt completedAt } }"


async def test_bulk_lifecycle_and_jsonl(sandbox: SandboxApp, clock: ManualClock) -> None:
    started = await gql(sandbox, BULK)
    job = started["data"]["bulkOperationRunQuery"]
    assert job["userErrors"] == [] and job["bulkOperation"]["status"] == "CREATED"
    assert started["extensions"]["cost"]["requestedQueryCost"] == 10
    second = await gql(sandbox, BULK)
    assert second["data"]["bulkOperationRunQuery"]["userErrors"][0]["code"] == "OPERATION_IN_PROGRESS"
    clock.advance(1.5)
    assert (await gql(sandbox, STATUS))["data"]["currentBulkOperation"]["status"] == "RUNNING"
    clock.advance(60)
    done = (await gql(sandbox, STATUS))["data"]["currentBulkOperation"]
    orders = [o for o in ORDERS if not o.test]
    lines = sum(len(o.lines) for o in orders)
    assert (done["status"], done["rootObjectCount"], done["objectCount"]) == (
        "COMPLETED", str(len(orders)), str(len(orders) + lines))
    node = await gql(sandbox, "query($id: ID!) { node(id: $id) { ... on BulkOperation { status } } }",
                     {"id": job["bulkOperation"]["id"]})
    assert node["data"]["node"] == {"status": "COMPLETED"}
    async with sandbox.client() as anonymous:  # a storage URL: no token needed
        download = await anonymous.get(done["url"])
    assert download.status_code == 200 and int(done["fileSize"]) == len(download.content)
    rows = [json.loads(line) for line in download.text.splitlines()]
    parents = [r for r in rows if "__parentId" not in r]
    # The default sort key of orders is PROCESSED_AT: oldest first.
    assert [r["name"] for r in parents] == [f"#{o.number}" for o in sorted(orders, key=lambda o: o.created_at)]
    assert (parents[-1]["id"], parents[-1]["name"]) == ("gid://shopify/Order/1", "#1001")
    assert set(parents[-1]) == {"id", "name", "totalPriceSet"}  # lineItems went to their own lines
    last_parent = None
    for row in rows:
        if "__parentId" in row:
            assert row["__parentId"] == last_parent and set(row) == {"id", "sku", "quantity", "__parentId"}
        else:
            last_parent = row["id"]
    assert len(rows) - len(parents) == lines
    assert (await gql(sandbox, BULK))["data"]["bulkOperationRunQuery"]["userErrors"] == []  # the last one is done


async def test_served_sandbox_writes_bulk_results_in_the_background(clock: ManualClock) -> None:
    """Served, a poll never waits for the export file: the job stays RUNNING while it is written."""
    import threading

    sandbox = create_sandbox(shop=make_shop(), clock=clock, bulk_startup_seconds=1, bulk_seconds_per_10k=10,
                             served=True)
    bulk = engine_of(sandbox).bulk
    release = threading.Event()
    write = bulk.writer
    assert write is not None

    def slow_writer(job: Any) -> Any:
        release.wait(10)  # a big shop: the file takes longer than the job's scheduled run time
        return write(job)

    bulk.writer = slow_writer
    await gql(sandbox, BULK)
    clock.advance(120)  # well past the scheduled completion
    polled = (await gql(sandbox, STATUS))["data"]["currentBulkOperation"]
    assert (polled["status"], polled["url"]) == ("RUNNING", None)  # answered at once, file not ready
    release.set()
    for _ in range(500):
        if not bulk.writing(bulk.current()):  # type: ignore[arg-type]
            break
        await asyncio.sleep(0.01)
    done = (await gql(sandbox, STATUS))["data"]["currentBulkOperation"]
    assert done["status"] == "COMPLETED" and done["url"]
    async with sandbox.client() as anonymous:
        download = await anonymous.get(done["url"])
    orders = [o for o in ORDERS if not o.test]
    assert download.status_code == 200
    assert sum(1 for line in download.text.splitlines() if "__parentId" not in line) == len(orders)


@pytest.mark.parametrize("root", sorted(BULK_QUERIES))
def test_the_bulk_executor_gives_what_graphql_core_gives(sandbox: SandboxApp, root: str) -> None:
    from graphql import execute_sync, parse

    from connectors.shopify.sandbox_bulk import BulkPage
    from connectors.shopify.sandbox_bulk_api import bulk_walk
    from connectors.shopify.sandbox_exec import LeanExecutor
    from connectors.shopify.sandbox_resolvers import field_resolver, type_resolver

    engine = engine_of(sandbox)
    operation, walk = bulk_walk(engine.context(""), BULK_QUERIES[root])
    reference = execute_sync(engine.schema, parse(BULK_QUERIES[root]), context_value=engine.context("", BulkPage()),
                             field_resolver=field_resolver, type_resolver=type_resolver)
    assert reference.errors is None and reference.data and reference.data[root]["edges"]
    assert LeanExecutor(operation, walk.fragments, engine.context("")).run(engine.context("", BulkPage())) == \
        reference.data


@pytest.mark.parametrize("inner, message", [
    ("{ shop { name } }", "at least one connection"),
    ("{ customers { edges { node { orders { edges { node { lineItems { edges { node { id } } } } } } } } } }",
     "nested more than 2"),
    ("{ node(id: \\\"gid://shopify/Order/1\\\") { id } }", "top level `node`"),
    ("{ customers { edges { node { nope } } } }", "Invalid bulk query"),
])
async def test_invalid_bulk_queries_are_user_errors(sandbox: SandboxApp, inner: str, message: str) -> None:
    body = await gql(sandbox, f'mutation {{ bulkOperationRunQuery(query: "{inner}") {{ bulkOperation {{ id }} '
                              f'userErrors {{ field message code }} }} }}')
    errors = body["data"]["bulkOperationRunQuery"]["userErrors"]
    assert errors[0]["code"] == "INVALID" and errors[0]["field"] == ["query"] and message in errors[0]["message"]


async def test_missing_scopes_are_access_denied(clock: ManualClock) -> None:
    sandbox = create_sandbox(shop=make_shop(), clock=clock, scopes=frozenset({"read_orders"}))
    body = await gql(sandbox, "{ customers(first: 2) { nodes { id } } }")
    assert body["data"] is None
    error = body["errors"][0]
    assert error["message"] == "Access denied for customers field. Required access: `read_customers` access scope."
    assert error["extensions"]["code"] == "ACCESS_DENIED" and error["path"] == ["customers"]
    nested = await gql(sandbox, "{ orders(first: 2, sortKey: ID) { nodes { id customer { id } } } }")
    assert [n["customer"] for n in nested["data"]["orders"]["nodes"]] == [None, None]
    assert {e["extensions"]["code"] for e in nested["errors"]} == {"ACCESS_DENIED"}
    recent = await gql(sandbox, "{ ordersCount { count } }")  # no read_all_orders: the last 60 days only
    assert recent["data"]["ordersCount"]["count"] == sum(o.created_at >= NOW - timedelta(days=60) for o in ORDERS)
    carts = await gql(sandbox, "{ abandonedCheckouts(first: 1) { nodes { id } } }")
    assert carts["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    bulk = await gql(sandbox, 'mutation { bulkOperationRunQuery(query: "{ customers { edges { node { id } } } }") '
                              '{ bulkOperation { id } userErrors { message } } }')
    assert bulk["data"]["bulkOperationRunQuery"]["userErrors"] == []
    clock.advance(60)
    failed = (await gql(sandbox, STATUS))["data"]["currentBulkOperation"]
    assert (failed["status"], failed["errorCode"], failed["url"]) == ("FAILED", "ACCESS_DENIED", None)


async def test_mutating_the_shop_shows_through_the_api(sandbox: SandboxApp, clock: ManualClock) -> None:
    assert sandbox.shop is not None
    sandbox.shop.update("customers", 7, clock.now(), email="changed@example.com")
    body = await gql(sandbox, PAGE, {"first": 5, "query": f"updated_at:>='{clock.now().isoformat()}'"})
    assert _ids(body) == [7]
    one = await gql(sandbox, '{ customer(id: "gid://shopify/Customer/7") { email updatedAt } }')
    assert one["data"]["customer"] == {"email": "changed@example.com", "updatedAt": "2026-01-15T09:00:00Z"}
    bad = await gql(sandbox, '{ customer(id: "7") { email } }')
    assert bad["errors"][0]["message"] == "Invalid global id '7'"


async def test_bulk_jobs_survive_a_restart_through_the_state_file(tmp_path: Path, clock: ManualClock) -> None:
    first = create_sandbox(shop=make_shop(), clock=clock, state_file=(state_file := tmp_path / "shopify.json"))
    started = (await gql(first, BULK))["data"]["bulkOperationRunQuery"]["bulkOperation"]
    first.save()
    second = create_sandbox(clock=clock, state_file=state_file)  # the shop comes back from the file too
    clock.advance(60)
    status = (await gql(second, STATUS))["data"]["currentBulkOperation"]
    assert (status["id"], status["status"]) == (started["id"], "COMPLETED")
    assert second.shop is not None and second.shop.count("orders") == len(ORDERS)


async def test_served_sandbox_with_a_real_client(sandbox: SandboxApp) -> None:
    with ServedSandbox(sandbox) as base_url:
        async with httpx.AsyncClient(base_url=base_url, headers={"X-Shopify-Access-Token": SANDBOX_TOKEN}) as c:
            response = await c.post(URL, json={"query": "{ shop { name myshopifyDomain } }"})
    assert response.json()["data"]["shop"] == {"name": "acme", "myshopifyDomain": "acme.myshopify.com"}


def test_queries_we_test_also_validate_against_the_unstable_schema() -> None:
    from graphql import build_schema, parse, validate

    unstable = build_schema(Path("/work/shared/specs/shopify/admin_unstable_2025-10-09.graphql").read_text())
    for query in (PAGE, STATUS, BULK):
        assert validate(unstable, parse(query)) == []


async def test_against_a_generated_shop(clock: ManualClock) -> None:
    datagen = pytest.importorskip("connector.sandbox.datagen")
    shop = datagen.GeneratedShop(datagen.ShopSpec(name="gen", seed=3, customers=120))
    sandbox = create_sandbox(shop=shop, clock=clock)
    assert "errors" not in await gql(sandbox, BROAD, {"first": 8})
    seen, _ = await walk(sandbox, first=50)
    assert seen == [c.key for c in shop.scan("customers", order_by="updated_at", limit=10**6)]
    assert (await gql(sandbox, BULK))["data"]["bulkOperationRunQuery"]["userErrors"] == []
    clock.advance(60)
    done = (await gql(sandbox, STATUS))["data"]["currentBulkOperation"]
    orders = [o for o in shop.scan("orders", limit=10**6) if not o.test]
    assert done["rootObjectCount"] == str(len(orders))
    assert done["objectCount"] == str(len(orders) + sum(len(o.lines) for o in orders))
    default = create_sandbox(customers=40, seed=2, clock=clock)  # generated on demand
    counted = await gql(default, "{ shop { name } customersCount { count } }")
    assert counted["data"] == {"shop": {"name": "sandbox"}, "customersCount": {"count": 40}}


def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"platform": "shopify", "shop": make_shop().dump()}, default=str))
    command = [str(Path(sys.executable).parent / "connector"), "sandbox", "serve", "shopify", "--state", str(state)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stdout is not None
        banner = ""
        while "Ctrl-C" not in banner and (line := process.stdout.readline()):  # up to the banner's last line
            banner += line
        endpoint = re.findall(r"http://127\.0\.0\.1:\d+/admin/api/2025-01/graphql\.json", banner)[0]
        token = re.findall(r"X-Shopify-Access-Token: (\S+)", banner)[0]
        assert token == SANDBOX_TOKEN
        payload = json.dumps({"query": "{ customers(first: 2) { nodes { id email } } }"})
        result = subprocess.run(["curl", "-s", "-X", "POST", "-H", f"X-Shopify-Access-Token: {token}", "-H",
                                 "Content-Type: application/json", "-d", payload, endpoint],
                                capture_output=True, text=True, timeout=10, check=True)
        assert json.loads(result.stdout)["data"]["customers"]["nodes"][0]["email"] == "User1@Example.com"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert "state saved" in process.stdout.read()
    assert json.loads(state.read_text())["platform"] == "shopify"
