"""Raw Shopify payloads -> canonical records: consent, metafields, money, statuses, quarantine."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel, TypeAdapter

from connector.models import ConsentState, FinancialStatus, OrderStatus
from connectors.shopify.models import (
    Envelope,
    PageData,
    ShopifyAbandonedCheckout,
    ShopifyCustomer,
    ShopifyOrder,
)
from connectors.shopify.normalize import (
    NO_EMAIL,
    consent_state,
    financial_status,
    native_id,
    normalize_batch,
    normalize_cart,
    normalize_customer,
    normalize_order,
    order_status,
    source_channel,
)

FIXTURES = Path(__file__).parent / "fixtures" / "shopify"
SHOP = "acme"
RawT = TypeVar("RawT", bound=BaseModel)


def load(name: str, model: type[RawT]) -> list[RawT]:
    """The nodes of every response in a fixture, parsed the way the client parses a page."""
    adapter = TypeAdapter(Envelope[PageData[model]])  # type: ignore[valid-type]
    nodes: list[RawT] = []
    for response in json.loads((FIXTURES / name).read_text(encoding="utf-8")):
        envelope = adapter.validate_json(json.dumps(response).encode())
        nodes.extend(envelope.data.page.nodes)
    return nodes


def by_id(records: list[Any]) -> dict[str, Any]:
    return {r.id.rsplit(":", 1)[1]: r for r in records}


# --- small rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gid", "expected"),
    [("gid://shopify/Customer/42", "42"), ("gid://shopify/Order/7?x=1", "7"), (None, None), ("", None)],
)
def test_native_id(gid: str | None, expected: str | None) -> None:
    assert native_id(gid) == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("SUBSCRIBED", ConsentState.SUBSCRIBED),
        ("UNSUBSCRIBED", ConsentState.UNSUBSCRIBED),
        ("PENDING", ConsentState.PENDING),
        ("NOT_SUBSCRIBED", ConsentState.NOT_SUBSCRIBED),
        ("REDACTED", ConsentState.NOT_SUBSCRIBED),
        ("INVALID", ConsentState.NOT_SUBSCRIBED),
        (None, ConsentState.NOT_SUBSCRIBED),
        ("SOMETHING_NEW", ConsentState.NOT_SUBSCRIBED),
    ],
)
def test_consent_state(state: str | None, expected: ConsentState) -> None:
    assert consent_state(state) is expected


@pytest.mark.parametrize(
    ("cancelled", "financial", "fulfillment", "expected"),
    [
        ("2026-01-01T00:00:00Z", "PAID", "FULFILLED", OrderStatus.CANCELLED),
        (None, "REFUNDED", "FULFILLED", OrderStatus.REFUNDED),
        (None, "VOIDED", "UNFULFILLED", OrderStatus.CANCELLED),
        (None, "EXPIRED", "UNFULFILLED", OrderStatus.FAILED),
        (None, "PAID", "FULFILLED", OrderStatus.COMPLETED),
        (None, "PARTIALLY_REFUNDED", "FULFILLED", OrderStatus.COMPLETED),
        (None, "PAID", "UNFULFILLED", OrderStatus.PROCESSING),
        (None, "PAID", "PARTIALLY_FULFILLED", OrderStatus.PROCESSING),
        (None, "PAID", "ON_HOLD", OrderStatus.ON_HOLD),
        (None, "PENDING", "UNFULFILLED", OrderStatus.PENDING),
        (None, "AUTHORIZED", "UNFULFILLED", OrderStatus.PENDING),
        (None, "PARTIALLY_PAID", "UNFULFILLED", OrderStatus.PENDING),
        (None, None, "UNFULFILLED", OrderStatus.PENDING),
    ],
)
def test_order_status(cancelled: str | None, financial: str | None, fulfillment: str, expected: OrderStatus) -> None:
    assert order_status(cancelled, financial, fulfillment) is expected


def test_financial_status() -> None:
    assert financial_status("PARTIALLY_REFUNDED") is FinancialStatus.PARTIALLY_REFUNDED
    assert financial_status("EXPIRED") is FinancialStatus.VOIDED
    assert financial_status(None) is FinancialStatus.UNKNOWN


@pytest.mark.parametrize(
    ("name", "expected"),
    [("web", "web"), ("pos", "pos"), ("iphone", "mobile"), ("android", "mobile"),
     ("shopify_draft_order", "draft_order"), ("580111", "app"), ("Instagram", "instagram"), (None, None)],
)
def test_source_channel(name: str | None, expected: str | None) -> None:
    assert source_channel(name) == expected


# --- customers --------------------------------------------------------------------------------------


def test_customers_are_normalised() -> None:
    records, quarantined = normalize_batch(load("customers__two_pages.json", ShopifyCustomer), normalize_customer, SHOP)
    assert quarantined == []
    ada = by_id(records)["1001"]
    assert ada.id == "shopify:acme:1001"
    assert ada.email == "ada@example.com"  # trimmed and lower-cased
    assert ada.phone == "+33612345678"
    assert (ada.address.country, ada.address.region, ada.address.city, ada.address.postal_code) == (
        "FR", "IDF", "Paris", "75001")
    assert ada.tags == ("vip",)
    assert ada.birthday is None  # the core maps metafields to profile fields
    assert ada.consent.state is ConsentState.SUBSCRIBED
    assert ada.consent.opt_in_level == "single_opt_in"
    assert ada.consent.source == "shopify:emailMarketingConsent"
    assert ada.consent.updated_at == datetime(2025, 6, 1, 10, tzinfo=UTC)
    assert ada.updated_at == datetime(2026, 1, 14, 10, tzinfo=UTC)


def test_metafields_become_typed_attributes() -> None:
    records, _ = normalize_batch(load("customers__two_pages.json", ShopifyCustomer), normalize_customer, SHOP)
    customers = by_id(records)
    assert customers["1001"].attributes == {
        "facts.birthday": date(1990, 12, 10),
        "loyalty.tier": "gold",
        "loyalty.points": 1200,
        "prefs.vip": True,
    }
    assert customers["1002"].attributes == {"loyalty.tier": "silver"}  # absent metafields are skipped
    assert customers["1003"].attributes == {}


def test_a_metafield_that_does_not_parse_as_its_type_stays_text() -> None:
    raw = ShopifyCustomer.model_validate({
        "id": "gid://shopify/Customer/1", "email": "a@example.com", "createdAt": "2025-01-01T00:00:00Z",
        "updatedAt": "2025-01-01T00:00:00Z",
        "metafield0": {"namespace": "facts", "key": "birthday", "type": "date", "value": "10/12/1990"},
    })
    assert normalize_customer(raw, SHOP).attributes == {"facts.birthday": "10/12/1990"}


def test_consent_states() -> None:
    records, quarantined = normalize_batch(load("customers__consent_states.json", ShopifyCustomer),
                                           normalize_customer, SHOP)
    assert quarantined == []
    states = {r.email.split("@")[0]: r.consent.state for r in records}
    assert states == {
        "s": ConsentState.SUBSCRIBED,
        "u": ConsentState.UNSUBSCRIBED,
        "p": ConsentState.PENDING,
        "n": ConsentState.NOT_SUBSCRIBED,
        "r": ConsentState.NOT_SUBSCRIBED,
        "i": ConsentState.NOT_SUBSCRIBED,
        "m": ConsentState.NOT_SUBSCRIBED,  # no consent object at all
    }


def test_bad_customers_are_quarantined_with_id_and_reason_and_the_rest_kept() -> None:
    records, quarantined = normalize_batch(load("customers__bad_records.json", ShopifyCustomer),
                                           normalize_customer, SHOP)
    assert sorted(r.id for r in records) == ["shopify:acme:3001", "shopify:acme:3004"]
    entries = {(q.record_id, q.action): q for q in quarantined}
    no_email = entries["shopify:acme:3002", "rejected"]
    assert (no_email.entity, no_email.field, no_email.reason) == ("customer", "email", NO_EMAIL)
    assert json.loads(no_email.payload or "")["id"] == "gid://shopify/Customer/3002"  # replayable raw JSON
    assert entries["shopify:acme:3005", "rejected"].reason == NO_EMAIL  # blank counts as none
    invalid = entries["shopify:acme:3003", "rejected"]
    assert invalid.field == "email" and "not a valid email address" in invalid.reason
    assert "not-an-email" not in invalid.reason  # reasons never repeat personal data
    phone = entries["shopify:acme:3004", "field_dropped"]
    assert phone.field == "phone" and phone.payload is None
    assert by_id(records)["3004"].phone is None


def test_a_customer_missing_required_fields_is_quarantined() -> None:
    raw = ShopifyCustomer.model_validate({"id": "gid://shopify/Customer/9", "email": "x@example.com"})
    records, quarantined = normalize_batch([raw], normalize_customer, SHOP)
    assert records == []
    assert quarantined[0].record_id == "shopify:acme:9"
    assert quarantined[0].field in ("created_at", "updated_at")
    assert "required field is missing" in quarantined[0].reason


# --- orders -----------------------------------------------------------------------------------------


def test_orders_money_statuses_refunds_and_guests() -> None:
    records, quarantined = normalize_batch(load("orders__refund_and_cancel.json", ShopifyOrder), normalize_order, SHOP)
    assert quarantined == []
    orders = by_id(records)

    paid = orders["4001"]
    assert (paid.status, paid.financial_status) == (OrderStatus.COMPLETED, FinancialStatus.PAID)
    assert (paid.currency, paid.subtotal, paid.shipping_total, paid.tax_total, paid.total) == (
        "EUR", Decimal("40.00"), Decimal("5.00"), Decimal("8.00"), Decimal("53.00"))
    assert isinstance(paid.total, Decimal) and str(paid.total) == "53.00"  # exact, never a float
    assert paid.customer_id == "shopify:acme:1001" and paid.number == "#4001"
    assert paid.discount_codes == ("WELCOME10",)
    (line,) = paid.line_items
    assert (line.product_id, line.variant_id, line.sku, line.title, line.product_type, line.vendor) == (
        "501", "601", "SKU-40011", "Tee", "T-shirt", "Acme")
    assert (line.quantity, line.unit_price, line.total, line.refunded_quantity) == (
        2, Decimal("20.00"), Decimal("40.00"), 0)

    partial = orders["4002"]
    assert partial.status is OrderStatus.COMPLETED
    assert partial.financial_status is FinancialStatus.PARTIALLY_REFUNDED
    assert partial.refunded_total == Decimal("21.20") and partial.net_total == Decimal("31.80")
    assert partial.line_items[0].refunded_quantity == 1  # quantity 2, currentQuantity 1

    refunded = orders["4003"]
    assert refunded.status is OrderStatus.REFUNDED and refunded.net_total == 0
    assert refunded.line_items[0].refunded_quantity == 2

    cancelled = orders["4004"]
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.is_cancelled
    assert cancelled.cancelled_at == datetime(2026, 1, 14, 10, 0, 3, tzinfo=UTC)

    guest = orders["4005"]
    assert guest.customer_id is None and guest.email == "guest@example.com"
    assert (guest.status, guest.source_channel) == (OrderStatus.PROCESSING, "pos")

    test_order = orders["4006"]
    assert test_order.test is True and test_order.source_channel == "mobile"
    assert test_order.status is OrderStatus.PENDING

    draft = orders["4007"]  # a guest without email is still an order
    assert draft.email is None and draft.customer_id is None
    assert draft.source_channel == "draft_order" and draft.discount_total == Decimal("2.00")
    assert draft.line_items[0].product_id is None


def test_bad_orders_are_quarantined_with_id_and_reason() -> None:
    records, quarantined = normalize_batch(load("orders__bad_records.json", ShopifyOrder), normalize_order, SHOP)
    assert [r.id for r in records] == ["shopify:acme:5001"]
    reasons = {q.record_id: q for q in quarantined}
    assert reasons["shopify:acme:5002"].field == "currency"
    assert "unknown currency" in reasons["shopify:acme:5002"].reason
    assert "refunded_total" in reasons["shopify:acme:5003"].reason
    mixed = reasons["shopify:acme:5004"]
    assert "USD" in mixed.reason and "EUR" in mixed.reason and mixed.entity == "order"
    assert all(q.action == "rejected" and q.payload for q in quarantined)


# --- carts ------------------------------------------------------------------------------------------


def test_carts() -> None:
    records, quarantined = normalize_batch(load("carts__abandoned.json", ShopifyAbandonedCheckout),
                                           normalize_cart, SHOP)
    carts = by_id(records)
    assert sorted(carts) == ["7001", "7002"]
    cart = carts["7001"]
    assert cart.email == "grace@example.com" and cart.customer_id == "shopify:acme:1002"
    assert (cart.value, cart.currency) == (Decimal("30.00"), "EUR")
    assert cart.recovery_url == "https://acme.myshopify.com/checkouts/recover/7001abc"
    assert cart.is_abandoned and cart.items[0].title == "Mug" and cart.items[0].vendor == "Acme"
    assert not carts["7002"].is_abandoned  # completed: recovered
    reasons = {q.record_id: q for q in quarantined}
    assert reasons["shopify:acme:7003"].reason == NO_EMAIL
    assert reasons["shopify:acme:7004"].field == "items.0.title"
    assert "required field is missing" in reasons["shopify:acme:7004"].reason
