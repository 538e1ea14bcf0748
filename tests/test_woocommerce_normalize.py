"""Raw WooCommerce payloads -> canonical records: pages, money, statuses, guests, carts, consent, quarantine.

Fixtures under ``fixtures/woocommerce``: ``*__docs_examples`` are the official docs' list examples and
``*__real_wc11_*`` the bodies captured from WooCommerce 11.0.1 (``_links`` removed); the others are
scenarios written for these tests. Expected values are worked out by hand from the fixtures.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from connector.errors import RecordError
from connector.models import Address, Cart, ConsentState, Customer, FinancialStatus, Order, OrderStatus
from connector.protocols import QuarantineEntry
from connector.quarantine import normalize_batch
from connectors.woocommerce.models import WooCustomer, WooOrder, parse_items, parse_page
from connectors.woocommerce.normalize import (
    NO_EMAIL,
    NormalizeOptions,
    consent_date,
    consent_state,
    financial_status,
    guest_customer,
    guest_customer_id,
    is_cart,
    normalize_cart,
    normalize_customer,
    normalize_order,
    order_status,
    source_channel,
)
from connectors.woocommerce.settings import WooCommerceSettings

FIXTURES = Path(__file__).parent / "fixtures" / "woocommerce"
SHARED = Path("/work/shared")  # beside the clone in CI, absent on users' machines
DOCS_SPEC = SHARED / "specs" / "woocommerce" / "wc_v3_customers_orders_webhooks.from-official-docs.json"
REAL = SHARED / "fixtures" / "woocommerce-real"
SHOP = "acme"
DEFAULT = NormalizeOptions()
OPTIN = NormalizeOptions(consent_meta_key="_newsletter_optin", consent_date_meta_key="_newsletter_optin_date")



def guest_id_of(email: str) -> str:
    """The documented guest id, computed here independently: sha256 of the lower-cased address, 20 hex digits."""
    return "woocommerce:acme:guest:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:20]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def raws(name: str, model: Any, *, content: bytes | None = None) -> dict[int, Any]:
    records, errors = parse_page(content if content is not None else (FIXTURES / name).read_bytes(), model, SHOP)
    assert errors == []
    return {r.id: r for r in records}


def native(record_id: str) -> int:
    return int(record_id.rsplit(":", 1)[1])


def customers(name: str, options: NormalizeOptions = DEFAULT, *, content: bytes | None = None,
              ) -> tuple[dict[int, Customer], dict[int, QuarantineEntry]]:
    good, bad = normalize_batch(raws(name, WooCustomer, content=content).values(),
                                partial(normalize_customer, options=options), SHOP)
    return {native(c.id): c for c in good}, {native(e.record_id): e for e in bad}


def orders(name: str, *, content: bytes | None = None) -> tuple[dict[int, Order], dict[int, QuarantineEntry]]:
    good, bad = normalize_batch(raws(name, WooOrder, content=content).values(),
                                partial(normalize_order, options=DEFAULT), SHOP)
    return {native(o.id): o for o in good}, {native(e.record_id): e for e in bad}


def carts(raw_orders: dict[int, WooOrder]) -> tuple[dict[int, Cart], dict[int, QuarantineEntry]]:
    good, bad = normalize_batch(raw_orders.values(), partial(normalize_cart, options=DEFAULT), SHOP)
    return {native(c.id): c for c in good}, {native(e.record_id): e for e in bad}


# --- pages ----------------------------------------------------------------------------------------


def test_a_valid_page_parses_whole() -> None:
    assert list(raws("customers__profiles.json", WooCustomer)) == [201, 202, 203, 204]


def test_malformed_customer_elements_are_set_aside_with_their_raw_json() -> None:
    content = (FIXTURES / "customers__bad_records.json").read_bytes()
    elements = json.loads(content)
    records, errors = parse_page(content, WooCustomer, SHOP)
    assert [r.id for r in records] == [301, 302, 303, 304, 305]
    found = [(e.record_id, e.entity, e.field, json.loads(payload)) for e, payload in errors]
    assert found == [
        ("woocommerce:acme:<no id>", "customer", "id", elements[1]),
        ("woocommerce:acme:abc", "customer", "id", elements[2]),
        ("woocommerce:acme:<no id>", "customer", None, "not an object"),
    ]
    assert "positive integer" in errors[0][0].reason
    assert errors[2][0].reason == "the list element is not a JSON object"


def test_malformed_order_elements_name_the_field_path() -> None:
    records, errors = parse_page((FIXTURES / "orders__bad_records.json").read_bytes(), WooOrder, SHOP)
    assert [r.id for r in records] == [701, 702, 703, 704, 707, 708, 709]
    assert [(e.record_id, e.field) for e, _ in errors] == [
        ("woocommerce:acme:705", "line_items[0].quantity"),
        ("woocommerce:acme:-5", "id"),
    ]
    assert json.loads(errors[0][1])["line_items"][0]["quantity"] == "two"


def test_decoded_items_are_parsed_the_same_way() -> None:
    elements = json.loads((FIXTURES / "customers__bad_records.json").read_bytes())
    records, errors = parse_items(elements, WooCustomer, SHOP)
    assert [r.id for r in records] == [301, 302, 303, 304, 305]
    assert [(e.record_id, e.field) for e, _ in errors] == [
        ("woocommerce:acme:<no id>", "id"), ("woocommerce:acme:abc", "id"), ("woocommerce:acme:<no id>", None)]
    valid, none = parse_items(elements[:1] + elements[-1:], WooCustomer, SHOP)
    assert ([r.id for r in valid], none) == ([301, 305], [])


@pytest.mark.parametrize(
    ("content", "message"),
    [(b'{"code": "woocommerce_rest_cannot_view"}', "dict, not a list"), (b"<html>oops</html>", "not JSON"),
     (b'"orders"', "str, not a list")],
)
def test_a_body_that_is_not_a_list_fails_the_page(content: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_page(content, WooOrder, SHOP)


def test_wire_leniency_nulls_php_empty_objects_and_numbers() -> None:
    content = (b'[{"id": 5, "billing": [], "meta_data": null, "line_items": [{"id": 1, "price": 12.5}], '
               b'"refunds": null}]')
    (order,), errors = parse_page(content, WooOrder, SHOP)
    assert errors == []
    assert (order.billing, order.meta_data, order.refunds, order.customer_id) == (None, [], [], 0)
    assert order.line_items[0].price == "12.5"
    assert parse_page(b"[]", WooCustomer, SHOP) == ([], [])


# --- the official docs' examples -----------------------------------------------------------------


def test_docs_customers() -> None:
    good, bad = customers("customers__docs_examples.json")
    assert {e.action for e in bad.values()} <= {"field_dropped"}
    joao, john = good[26], good[25]
    assert (joao.email, joao.first_name, joao.last_name) == ("joao.silva@example.com", "João", "Silva")
    assert joao.address == Address(country="BR", region="RJ", city="Rio de Janeiro", postal_code="12345-000")
    assert (joao.created_at, joao.updated_at) == (utc(2017, 3, 21, 19, 11, 14), utc(2017, 3, 21, 19, 11, 16))
    assert (john.created_at, john.updated_at) == (utc(2017, 3, 21, 19, 9, 28), utc(2017, 3, 21, 19, 9, 30))
    assert john.address == Address(country="US", region="CA", city="San Francisco", postal_code="94103")
    # "(555) 555-5555": 555 is no North American area code, so the phone is dropped and reported
    assert john.phone is None and [i.field for i in john.issues] == ["phone"]
    assert bad[25].field == "phone"
    for customer in (joao, john):
        assert customer.consent.state is ConsentState.NOT_SUBSCRIBED
        assert customer.consent.source == "woocommerce:default"
        assert (customer.is_staff, customer.attributes, customer.company) == (False, {}, None)


def test_docs_orders() -> None:
    good, bad = orders("orders__docs_examples.json")
    assert bad == {}
    guest, refunded = good[727], good[723]
    assert guest.customer_id == guest_id_of("john.doe@example.com")
    assert (guest.email, guest.number, guest.currency) == ("john.doe@example.com", "727", "USD")
    assert (guest.status, guest.financial_status) == (OrderStatus.PROCESSING, FinancialStatus.PAID)
    assert (guest.total, guest.subtotal, guest.shipping_total, guest.tax_total, guest.discount_total) == (
        Decimal("29.35"), Decimal("18.00"), Decimal("10.00"), Decimal("1.35"), Decimal("0"))
    assert (guest.created_at, guest.updated_at, guest.processed_at) == (
        utc(2017, 3, 22, 19, 28, 2), utc(2017, 3, 22, 19, 28, 8), utc(2017, 3, 22, 19, 28, 8))
    assert guest.source_channel == "api"
    single, variant = guest.line_items
    assert (single.line_id, single.product_id, single.variant_id, single.sku, single.title) == (
        "315", "93", None, None, "Woo Single #1")
    assert (single.quantity, single.unit_price, single.total) == (2, Decimal("3"), Decimal("6.00"))
    assert (variant.product_id, variant.variant_id, variant.sku, variant.unit_price) == ("22", "23", "Bar3", 12)
    assert guest.attributes == {"_download_permissions_granted": "yes", "_order_stock_reduced": "yes",
                                "woocommerce.status": "processing"}
    # completed with two refunds (the docs spell the reason "refund") and, in the docs, no payment date
    assert refunded.customer_id == "woocommerce:acme:26"
    assert refunded.refunded_total == Decimal("19.00")
    assert refunded.financial_status is FinancialStatus.PARTIALLY_REFUNDED
    assert (refunded.status, refunded.processed_at, refunded.source_channel) == (OrderStatus.COMPLETED, None, "web")
    assert (refunded.subtotal, refunded.net_total) == (Decimal("29.00"), Decimal("20.00"))


def test_docs_guest_order_makes_a_guest_customer() -> None:
    raw = raws("orders__docs_examples.json", WooOrder)
    john = guest_customer(raw[727], SHOP, DEFAULT)
    assert john is not None and john.id == guest_id_of("john.doe@example.com")
    assert (john.first_name, john.last_name, john.email) == ("John", "Doe", "john.doe@example.com")
    assert (john.created_at, john.updated_at) == (utc(2017, 3, 22, 19, 28, 2), utc(2017, 3, 22, 19, 28, 8))
    assert guest_customer(raw[723], SHOP, DEFAULT) is None
    assert not any(is_cart(o) for o in raw.values())


def _docs_examples() -> list[Any]:
    if not DOCS_SPEC.exists():
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=f"{DOCS_SPEC} not present"))]
    spec = json.loads(DOCS_SPEC.read_text(encoding="utf-8"))
    cases = []
    for entity, model in (("customers", WooCustomer), ("orders", WooOrder)):
        for section, (example,) in spec[entity]["example_json"].items():
            if section.startswith(("Retrieve a", "List all")) and "downloads" not in section:
                body = example if isinstance(example, list) else [example]
                cases.append(pytest.param(json.dumps(body).encode(), model, id=f"{entity}: {section}"))
    for path in sorted((SHARED / "fixtures" / "woocommerce").glob("*_list.docs-example.json")):
        model = WooCustomer if path.name.startswith("customers") else WooOrder
        cases.append(pytest.param(path.read_bytes(), model, id=path.name))
    return cases


@pytest.mark.parametrize(("content", "model"), _docs_examples())
def test_every_docs_response_example_normalises(content: bytes, model: Any) -> None:
    records, errors = parse_page(content, model, SHOP)
    assert records and errors == []
    normalize = normalize_customer if model is WooCustomer else normalize_order
    good, bad = normalize_batch(records, partial(normalize, options=DEFAULT), SHOP)
    assert len(good) == len(records)
    assert all(e.action == "field_dropped" and e.field == "phone" for e in bad)


# --- real WooCommerce 11.0.1 captures ------------------------------------------------------------


def test_real_customers_with_a_test_domain_are_quarantined_for_their_email() -> None:
    """The capture used ``@example.test``: ``.test`` is a special-use domain no mail can reach."""
    good, bad = customers("customers__real_wc11_pages.json")
    assert good == {}
    assert sorted(bad) == [2, 3, 4, 5, 6, 7]
    assert {(e.field, e.action) for e in bad.values()} == {("email", "rejected")}
    assert all("special-use" in e.reason for e in bad.values())


def test_real_customers() -> None:
    content = (FIXTURES / "customers__real_wc11_pages.json").read_bytes().replace(b"example.test", b"example.com")
    good, bad = customers("", content=content)
    assert sorted(good) == [2, 3, 4, 5, 6, 7]
    ada = good[2]
    assert (ada.email, ada.first_name, ada.last_name) == ("ada.lovelace@example.com", "Ada", "Lovelace")
    assert (ada.created_at, ada.updated_at) == (utc(2026, 11, 23, 11, 46, 10), utc(2026, 11, 23, 11, 46, 11))
    assert ada.address == Address(country="US", region="CA", city="San Francisco", postal_code="94103")
    assert ada.attributes == {"default_password_nag": "1", "wc_last_active": "1795434371"}
    assert good[3].first_name == "Alan M." and good[3].updated_at == utc(2026, 11, 23, 11, 46, 40)
    # +1-555-0100 .. 0104 are fictional numbers: dropped, reported, the customers kept
    assert sorted(bad) == [2, 3, 4, 5, 6] and {e.action for e in bad.values()} == {"field_dropped"}
    assert good[7].address == Address() and good[7].issues == ()  # created over OAuth without a billing address


def test_real_orders_keep_going_without_a_usable_email() -> None:
    good, bad = orders("orders__real_wc11_all_statuses.json")
    assert bad == {} and len(good) == 11
    assert {o.email for o in good.values()} == {None}
    assert good[13].customer_id == "woocommerce:acme:2" and good[21].customer_id is None
    raw = raws("orders__real_wc11_all_statuses.json", WooOrder)
    with pytest.raises(RecordError) as caught:
        guest_customer(raw[21], SHOP, DEFAULT)
    assert (caught.value.record_id, caught.value.entity, caught.value.field) == (
        "woocommerce:acme:guest:order:21", "customer", "billing.email")
    good_carts, bad_carts = carts({k: o for k, o in raw.items() if is_cart(o)})
    assert good_carts == {} and sorted(bad_carts) == [17, 18, 19, 21, 22, 23]
    assert {e.field for e in bad_carts.values()} == {"billing.email"}


def test_real_orders() -> None:
    content = (FIXTURES / "orders__real_wc11_all_statuses.json").read_bytes().replace(b"example.test", b"example.com")
    good, bad = orders("", content=content)
    assert bad == {}
    statuses = {n: (o.status, o.financial_status) for n, o in good.items()}
    assert statuses == {
        13: (OrderStatus.COMPLETED, FinancialStatus.PAID), 14: (OrderStatus.PROCESSING, FinancialStatus.PAID),
        15: (OrderStatus.ON_HOLD, FinancialStatus.PENDING), 16: (OrderStatus.ON_HOLD, FinancialStatus.PENDING),
        17: (OrderStatus.DRAFT, FinancialStatus.PENDING), 18: (OrderStatus.CANCELLED, FinancialStatus.VOIDED),
        19: (OrderStatus.PENDING, FinancialStatus.PENDING), 20: (OrderStatus.COMPLETED, FinancialStatus.PAID),
        21: (OrderStatus.PENDING, FinancialStatus.PENDING), 22: (OrderStatus.DRAFT, FinancialStatus.PENDING),
        23: (OrderStatus.PENDING, FinancialStatus.PENDING),
    }
    twenty = good[20]
    assert (twenty.total, twenty.shipping_total, twenty.subtotal) == (Decimal("45.00"), Decimal("5.00"), Decimal("40"))
    assert (twenty.processed_at, twenty.source_channel) == (utc(2026, 11, 23, 11, 46, 13), "api")
    assert (twenty.line_items[0].unit_price, twenty.line_items[0].quantity) == (Decimal("20"), 2)
    assert twenty.attributes == {"_connector_test_seq": "7", "woocommerce.status": "completed"}
    assert good[18].cancelled_at == utc(2026, 11, 23, 11, 46, 12) and good[18].processed_at is None
    assert good[17].updated_at == utc(2026, 11, 23, 11, 46, 40)
    assert good[21].customer_id == guest_id_of("guest@example.com")
    raw = raws("", WooOrder, content=content)
    assert sorted(n for n, o in raw.items() if is_cart(o)) == [17, 18, 19, 21, 22, 23]
    cart = normalize_cart(raw[17], SHOP, DEFAULT)
    assert (cart.email, cart.customer_id, cart.value, cart.currency) == (
        "barbara.liskov@example.com", "woocommerce:acme:6", Decimal("30.00"), "USD")
    assert cart.recovery_url == "https://127.0.0.1:8443/checkout/order-pay/17/?pay_for_order=true&key=wc_order_y1Yn31SszRDFB"
    (item,) = cart.items
    assert (item.title, item.quantity, item.unit_price, item.total) == ("Test Mug", 2, Decimal("12.5"), Decimal("25"))
    assert cart.is_abandoned


def _captures() -> list[Any]:
    if not REAL.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{REAL} not present"))]
    return [pytest.param(p, id=p.name) for p in sorted(REAL.glob("*.json"))
            if p.name.startswith(("customer", "order")) and json.loads(p.read_text())["status"] in (200, None)]


@pytest.mark.parametrize("path", _captures())
def test_every_captured_body_parses_and_normalises(path: Path) -> None:
    body = json.loads(path.read_text(encoding="utf-8"))["body"]
    content = json.dumps(body if isinstance(body, list) else [body]).encode()
    if path.name.startswith("customer"):
        records, errors = parse_page(content, WooCustomer, SHOP)
        good, bad = normalize_batch(records, partial(normalize_customer, options=DEFAULT), SHOP)
        assert good == [] and all(e.field == "email" and "special-use" in e.reason for e in bad)  # @example.test
        assert len(bad) == len(records)
    else:
        records, errors = parse_page(content, WooOrder, SHOP)
        good, bad = normalize_batch(records, partial(normalize_order, options=DEFAULT), SHOP)
        assert (len(good), bad) == (len(records), [])
    assert errors == []


# --- consent --------------------------------------------------------------------------------------


def test_without_a_consent_key_nobody_is_subscribed() -> None:
    good, bad = customers("customers__consent_meta.json")
    assert bad == {} and len(good) == 9
    assert {(c.consent.state, c.consent.source, c.consent.updated_at) for c in good.values()} == {
        (ConsentState.NOT_SUBSCRIBED, "woocommerce:default", None)}


@pytest.mark.parametrize(
    ("number", "state", "updated_at"),
    [
        (101, ConsentState.SUBSCRIBED, utc(2024, 3, 1, 8)),  # "yes", +02:00
        (102, ConsentState.SUBSCRIBED, utc(2023, 11, 14, 22, 13, 20)),  # " YES ", "1700000000"
        (103, ConsentState.SUBSCRIBED, utc(2023, 11, 14, 22, 13, 20)),  # 1, 1700000000 as JSON numbers
        (104, ConsentState.UNSUBSCRIBED, utc(2024, 1, 15, 9, 30)),  # "Unsubscribed", naive date: UTC
        (105, ConsentState.NOT_SUBSCRIBED, None),  # "maybe", "next tuesday"
        (107, ConsentState.PENDING, None),  # no date meta
        (108, ConsentState.SUBSCRIBED, utc(2024, 2, 29, 23, 59, 59)),  # JSON true, Z
        (109, ConsentState.NOT_SUBSCRIBED, None),  # an object
    ],
)
def test_consent_from_meta(number: int, state: ConsentState, updated_at: datetime | None) -> None:
    good, _ = customers("customers__consent_meta.json", OPTIN)
    consent = good[number].consent
    assert (consent.state, consent.updated_at) == (state, updated_at)
    assert consent.source == "woocommerce:meta:_newsletter_optin"


def test_consent_key_absent_and_unreadable_dates() -> None:
    good, bad = customers("customers__consent_meta.json", OPTIN)
    assert (good[106].consent.state, good[106].consent.source) == (ConsentState.NOT_SUBSCRIBED, "woocommerce:default")
    # an unreadable date is dropped and reported; the consent itself is kept
    assert [i.field for i in good[105].issues] == ["meta_data._newsletter_optin_date"]
    assert (bad[105].action, bad[105].field) == ("field_dropped", "meta_data._newsletter_optin_date")
    assert sorted(bad) == [105]
    assert good[101].attributes == {"_newsletter_optin": "yes", "_newsletter_optin_date": "2024-03-01T10:00:00+02:00"}


def test_consent_values_are_configurable_and_an_unsubscribe_wins() -> None:
    options = NormalizeOptions(consent_meta_key=" _newsletter_optin ", subscribed_values=frozenset({" Maybe "}))
    good, _ = customers("customers__consent_meta.json", options)
    assert good[105].consent.state is ConsentState.SUBSCRIBED
    assert good[101].consent.state is ConsentState.NOT_SUBSCRIBED  # "yes" is no longer a subscription
    both = NormalizeOptions(subscribed_values=frozenset({"yes"}), unsubscribed_values=frozenset({"YES"}))
    assert consent_state("yes", both) is ConsentState.UNSUBSCRIBED


def test_options_from_settings() -> None:
    settings = WooCommerceSettings(url="https://shop.example.com", consumer_key="ck_1", consumer_secret="cs_1",
                                   consent_meta_key="_optin", consent_date_meta_key="_optin_at",
                                   consent_subscribed_values=("Ja", " OUI "), cart_delay_minutes=30)
    options = NormalizeOptions.from_settings(settings)
    assert (options.consent_meta_key, options.consent_date_meta_key) == ("_optin", "_optin_at")
    assert options.subscribed_values == frozenset({"ja", "oui"})
    assert options.unsubscribed_values == frozenset({"unsubscribed", "opt-out", "opted_out"})
    assert (options.pending_values, options.cart_delay) == (frozenset({"pending"}), timedelta(minutes=30))
    assert DEFAULT.consent_meta_key is None and DEFAULT.cart_delay == timedelta(hours=1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2024-03-01T10:00:00Z", utc(2024, 3, 1, 10)), ("2024-03-01T10:00:00-05:00", utc(2024, 3, 1, 15)),
     ("2024-03-01", utc(2024, 3, 1)), (1700000000, utc(2023, 11, 14, 22, 13, 20)),
     (" 1700000000 ", utc(2023, 11, 14, 22, 13, 20)), ("garbage", None), ("", None), (True, None),
     ({"at": 1}, None), (10**20, None)],
)
def test_consent_date(value: Any, expected: datetime | None) -> None:
    assert consent_date(value) == expected


# --- customers ------------------------------------------------------------------------------------


def test_customer_profiles_attributes_staff_and_gmt_dates() -> None:
    good, bad = customers("customers__profiles.json")
    assert bad == {}
    ada = good[201]
    # the site runs at UTC+2: local 12:00 and 01:30 (the next day) are 10:00 and 23:30 UTC
    assert (ada.created_at, ada.updated_at) == (utc(2024, 6, 1, 10), utc(2024, 6, 2, 23, 30))
    assert (ada.email, ada.first_name, ada.last_name) == ("ada.lovelace@example.com", "Ada", "Lovelace")
    assert (ada.company, ada.phone) == ("Analytical Engines Ltd", "+33123456789")
    assert ada.address == Address(country="GB", region="LND", city="London", postal_code="EC1A 1BB")
    # objects, arrays and nulls are skipped; a repeated key keeps its last entry, even a non-scalar one
    assert ada.attributes == {"loyalty_tier": "gold", "points": 1200, "ratio": Decimal("0.1"), "vip": True,
                              "tier": "gold"}
    assert type(ada.attributes["points"]) is int and ada.attributes["vip"] is True
    grace = good[202]  # no email of her own, no billing address: billing email and names, shipping address
    assert (grace.email, grace.first_name, grace.last_name) == ("grace@example.com", "Grace", "Hopper")
    assert grace.address == Address(country="US", region="VA", city="Arlington", postal_code="22201")
    assert grace.company == "US Navy"
    assert {n: c.is_staff for n, c in good.items()} == {201: False, 202: True, 203: True, 204: False}
    assert good[203].updated_at == good[203].created_at == utc(2024, 5, 1, 10)  # date_modified_gmt null


def test_bad_customers_are_quarantined_with_a_reason() -> None:
    records, _ = parse_page((FIXTURES / "customers__bad_records.json").read_bytes(), WooCustomer, SHOP)
    valid, invalid = normalize_batch(records, partial(normalize_customer, options=DEFAULT), SHOP)
    good, bad = {native(c.id): c for c in valid}, {native(e.record_id): e for e in invalid}
    assert sorted(good) == [301, 305]
    assert {n: e.field for n, e in bad.items()} == {302: "email", 303: "date_created_gmt", 304: "email"}
    assert bad[302].reason == NO_EMAIL
    assert "site-local" in bad[303].reason and "timezone" in bad[303].reason
    assert "not a valid email address" in bad[304].reason
    assert json.loads(bad[302].payload or "")["id"] == 302


# --- orders: refunds, cancellations ---------------------------------------------------------------


def test_refunds_and_cancellations() -> None:
    good, bad = orders("orders__refund_and_cancel.json")
    partial_refund = good[401]
    assert (partial_refund.refunded_total, partial_refund.financial_status) == (
        Decimal("15.50"), FinancialStatus.PARTIALLY_REFUNDED)
    assert (partial_refund.status, partial_refund.net_total) == (OrderStatus.COMPLETED, Decimal("34.50"))
    assert (good[402].status, good[402].financial_status) == (OrderStatus.REFUNDED, FinancialStatus.REFUNDED)
    assert good[402].net_total == 0
    # still "completed", but refunds (docs-style "refund" keys) add up to the total
    assert (good[403].status, good[403].financial_status) == (OrderStatus.COMPLETED, FinancialStatus.REFUNDED)
    assert good[403].refunded_total == Decimal("30.00")
    unpaid = good[404]
    assert (unpaid.status, unpaid.financial_status) == (OrderStatus.CANCELLED, FinancialStatus.VOIDED)
    assert (unpaid.cancelled_at, unpaid.processed_at) == (utc(2024, 5, 1, 11), None)
    paid = good[405]
    assert (paid.status, paid.financial_status) == (OrderStatus.CANCELLED, FinancialStatus.VOIDED)
    assert (paid.processed_at, paid.cancelled_at) == (utc(2024, 5, 1, 10, 5), utc(2024, 5, 3, 8))
    assert (good[407].status, good[407].financial_status) == (OrderStatus.CANCELLED, FinancialStatus.VOIDED)
    assert good[407].cancelled_at == utc(2024, 5, 4, 9) and good[407].attributes["woocommerce.status"] == "trash"
    assert list(bad) == [406] and bad[406].field == "refunds"
    assert "12.00" in bad[406].reason and "10.00" in bad[406].reason
    raw = raws("orders__refund_and_cancel.json", WooOrder)
    assert [n for n, o in raw.items() if is_cart(o)] == [404]  # cancelled unpaid: the hold-stock timer
    cart = normalize_cart(raw[404], SHOP, DEFAULT)
    assert cart.is_abandoned and cart.value == Decimal("12.50")


# --- orders: guests, carts, statuses, channels ----------------------------------------------------


def test_guest_orders_link_to_one_guest_customer() -> None:
    good, bad = orders("orders__guests_and_carts.json")
    guest_id = guest_id_of("jane.doe@example.com")
    assert (good[501].customer_id, good[501].email) == (guest_id, "jane.doe@example.com")
    assert good[502].customer_id == guest_id
    assert (good[508].customer_id, good[508].email) == (None, None)  # no email
    assert (good[509].customer_id, good[509].email) == (None, None)  # "not-an-email"
    assert good[503].customer_id == "woocommerce:acme:7"
    raw = raws("orders__guests_and_carts.json", WooOrder)
    jane = guest_customer(raw[501], SHOP, OPTIN)
    assert jane is not None and jane.id == guest_id and jane.email == "jane.doe@example.com"
    assert (jane.created_at, jane.updated_at) == (utc(2024, 5, 10, 8), utc(2024, 5, 10, 8, 1))
    assert jane.address == Address(country="FR", city="Lyon", postal_code="69001")
    assert (jane.consent.state, jane.consent.source) == (ConsentState.SUBSCRIBED, "woocommerce:meta:_newsletter_optin")
    assert jane.consent.updated_at == utc(2024, 5, 10, 8)  # no date meta: the order's creation
    assert jane.attributes == {}
    assert guest_customer(raw[501], SHOP, DEFAULT).consent.state is ConsentState.NOT_SUBSCRIBED  # type: ignore[union-attr]
    again = guest_customer(raw[502], SHOP, OPTIN)
    assert again is not None and again.id == guest_id
    assert (again.consent.state, again.consent.updated_at) == (ConsentState.NOT_SUBSCRIBED, None)
    assert guest_customer(raw[503], SHOP, OPTIN) is None
    for number in (508, 509):
        with pytest.raises(RecordError) as caught:
            guest_customer(raw[number], SHOP, OPTIN)
        assert caught.value.record_id == f"woocommerce:acme:guest:order:{number}"
        assert (caught.value.entity, caught.value.field) == ("customer", "billing.email")


def test_site_local_dates_are_ignored_for_gmt() -> None:
    good, _ = orders("orders__guests_and_carts.json")
    # local 10:59 / 11:00 at UTC+2
    assert (good[502].created_at, good[502].processed_at) == (utc(2024, 5, 11, 8, 59), utc(2024, 5, 11, 9))


def test_statuses_and_channels() -> None:
    good, _ = orders("orders__guests_and_carts.json")
    found = {n: (o.status, o.financial_status, o.source_channel) for n, o in good.items()}
    assert found[503] == (OrderStatus.DRAFT, FinancialStatus.PENDING, "web")  # store-api
    assert found[504] == (OrderStatus.FAILED, FinancialStatus.PENDING, "web")
    assert found[505] == (OrderStatus.PROCESSING, FinancialStatus.PAID, "web")
    assert found[506] == (OrderStatus.PROCESSING, FinancialStatus.PAID, "pos")  # "shipped", paid
    assert found[507] == (OrderStatus.PENDING, FinancialStatus.PENDING, "admin")  # "awaiting-pickup", unpaid
    assert found[510][2] == "my-plugin"
    assert good[506].attributes == {"woocommerce.status": "shipped"}
    assert good[507].attributes == {"woocommerce.status": "awaiting-pickup"}


def test_carts() -> None:
    raw = raws("orders__guests_and_carts.json", WooOrder)
    assert sorted(n for n, o in raw.items() if is_cart(o)) == [501, 503, 504, 508, 509, 510]
    good, bad = carts({n: o for n, o in raw.items() if is_cart(o) or n == 505})
    draft = good[503]
    assert (draft.id, draft.customer_id) == ("woocommerce:acme:503", "woocommerce:acme:7")
    assert draft.email == "grace@example.com"
    assert (draft.value, draft.currency, draft.completed_at) == (Decimal("40.00"), "USD", None)
    assert draft.recovery_url == "https://shop.example.com/checkout/order-pay/503/?pay_for_order=true&key=wc_order_key503"
    (item,) = draft.items
    assert (item.product_id, item.variant_id, item.sku, item.unit_price, item.total) == (
        "12", "31", "tee-m", Decimal("20"), Decimal("40.00"))
    assert good[501].customer_id == guest_id_of("jane.doe@example.com")
    assert good[501].email == "jane.doe@example.com"
    assert good[504].is_abandoned
    recovered = good[505]  # paid after all
    assert (recovered.completed_at, recovered.is_abandoned) == (utc(2024, 5, 2, 7), False)
    assert {n: e.field for n, e in bad.items()} == {508: "billing.email", 509: "billing.email"}
    assert bad[508].reason == NO_EMAIL and "not a valid email address" in bad[509].reason


# --- money ----------------------------------------------------------------------------------------


def test_money_is_exact() -> None:
    good, bad = orders("orders__money.json")
    assert bad == {}
    assert {o.currency for o in good.values()} == {"USD", "KWD", "JPY"}
    cents = good[601]
    assert cents.subtotal == Decimal("0.3") and 0.1 + 0.2 != 0.3  # 0.10 + 0.20 + 0.00, where floats drift
    assert (cents.total, cents.discount_total, cents.discount_codes) == (
        Decimal("0.30"), Decimal("1.00"), ("SPRING10", "freeship"))
    assert [(li.unit_price, li.total) for li in cents.line_items] == [
        (Decimal("1.10"), Decimal("0.10")), (Decimal("0.20"), Decimal("0.20")), (Decimal(0), Decimal(0))]
    dinars = good[602]
    assert (dinars.total, dinars.shipping_total, dinars.subtotal) == (
        Decimal("22.845"), Decimal("1.5"), Decimal("21.345"))
    assert [li.unit_price for li in dinars.line_items] == [Decimal("6.1725"), Decimal("3.3333")]  # 12.345/2, 10/3
    yen = good[603]
    assert (yen.currency, yen.total, yen.line_items[0].unit_price) == ("JPY", Decimal(1500), Decimal(500))
    gold = good[604]
    assert (gold.total, gold.subtotal) == (Decimal("1234.5682"), Decimal("1234.5682"))
    # half-even at the fourth place: 0.00005 -> 0.0000, 0.00015 -> 0.0002
    assert [li.unit_price for li in gold.line_items] == [Decimal("1234.5678"), Decimal("0"), Decimal("0.0002")]


def test_bad_orders_are_quarantined_naming_the_field() -> None:
    records, _ = parse_page((FIXTURES / "orders__bad_records.json").read_bytes(), WooOrder, SHOP)
    good, bad = normalize_batch(records, partial(normalize_order, options=DEFAULT), SHOP)
    assert [native(o.id) for o in good] == [704]
    found = {native(e.record_id): e for e in bad}
    assert {n: e.field for n, e in found.items()} == {
        701: "line_items[0].total", 702: "date_created_gmt", 703: "total", 707: "status",
        708: "refunds[0].total", 709: "date_paid_gmt",
    }
    assert "'12,50' is not an amount" in found[701].reason
    assert "site-local" in found[709].reason
    assert {e.entity for e in bad} == {"order"}


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [("total", "NaN", "is not an amount"), ("total", "Infinity", "is not an amount"),
     ("shipping_total", "100000000000000", "beyond 100 trillion"), ("discount_total", "1 000", "is not an amount")],
)
def test_amounts_that_are_not_finite_numbers_or_too_large(field: str, value: str, reason: str) -> None:
    raw = raws("orders__money.json", WooOrder)[601].model_copy(update={field: value})
    with pytest.raises(RecordError) as caught:
        normalize_order(raw, SHOP, DEFAULT)
    assert (caught.value.field, caught.value.record_id) == (field, "woocommerce:acme:601")
    assert reason in caught.value.reason


# --- small rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "paid", "expected"),
    [("pending", False, OrderStatus.PENDING), ("processing", True, OrderStatus.PROCESSING),
     ("on-hold", False, OrderStatus.ON_HOLD), ("completed", True, OrderStatus.COMPLETED),
     ("cancelled", False, OrderStatus.CANCELLED), ("refunded", True, OrderStatus.REFUNDED),
     ("failed", False, OrderStatus.FAILED), ("checkout-draft", False, OrderStatus.DRAFT),
     ("trash", False, OrderStatus.CANCELLED), ("Completed ", True, OrderStatus.COMPLETED),
     ("shipped", True, OrderStatus.PROCESSING), ("shipped", False, OrderStatus.PENDING)],
)
def test_order_status(status: str, paid: bool, expected: OrderStatus) -> None:
    assert order_status(status, paid) is expected


@pytest.mark.parametrize(
    ("status", "paid", "total", "refunded", "expected"),
    [("refunded", True, "10", "0", FinancialStatus.REFUNDED), ("completed", True, "10", "10", FinancialStatus.REFUNDED),
     ("completed", True, "10", "3", FinancialStatus.PARTIALLY_REFUNDED),
     ("cancelled", False, "10", "0", FinancialStatus.VOIDED), ("trash", True, "10", "0", FinancialStatus.VOIDED),
     ("completed", True, "0", "0", FinancialStatus.PAID),  # a free order is not "refunded"
     ("on-hold", False, "10", "0", FinancialStatus.PENDING), ("failed", False, "10", "0", FinancialStatus.PENDING)],
)
def test_financial_status(status: str, paid: bool, total: str, refunded: str, expected: FinancialStatus) -> None:
    assert financial_status(status, paid, Decimal(total), Decimal(refunded)) is expected


@pytest.mark.parametrize(
    ("created_via", "expected"),
    [("checkout", "web"), ("store-api", "web"), ("pos", "pos"), ("rest-api", "api"), ("admin", "admin"),
     ("Subscription", "subscription"), ("", None), (None, None)],
)
def test_source_channel(created_via: str | None, expected: str | None) -> None:
    assert source_channel(created_via) == expected


def test_guest_customer_id() -> None:
    assert guest_customer_id(SHOP, " A.B@Example.COM ") == guest_id_of("a.b@example.com")
    with pytest.raises(ValueError, match="not a valid email"):
        guest_customer_id(SHOP, "a.b")
