"""Canonical models: normalisation, and validation failures that become quarantinable errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from connector.errors import RecordError
from connector.models import (
    Cart,
    ConsentState,
    Customer,
    FinancialStatus,
    Order,
    OrderStatus,
    make_id,
    normalize_email,
    normalize_phone,
    parse_record,
    split_id,
)

T0 = "2025-03-01T10:00:00Z"


def customer(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "id": "shopify:acme:1001",
        "email": "jane@example.com",
        "created_at": T0,
        "updated_at": T0,
    }
    data.update(overrides)
    return data


def order(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "id": "woocommerce:boutique:727",
        "status": "completed",
        "currency": "EUR",
        "total": "59.90",
        "created_at": T0,
        "updated_at": T0,
    }
    data.update(overrides)
    return data


# --------------------------------------------------------------------------- ids


def test_ids_are_namespaced_by_platform_and_shop() -> None:
    assert make_id("shopify", "acme", 42) == "shopify:acme:42"
    # Shopify GIDs contain colons and slashes; everything after the shop is the native id.
    assert split_id("shopify:acme:gid://shopify/Customer/7") == ("shopify", "acme", "gid://shopify/Customer/7")


@pytest.mark.parametrize("bad", ["42", "shopify:42", "Shopify:acme:1", "shopify::1", "shopify:acme:"])
def test_malformed_ids_are_refused(bad: str) -> None:
    with pytest.raises(RecordError) as err:
        parse_record(Customer, customer(id=bad), record_id="row 3")
    assert err.value.field == "id"
    assert err.value.record_id == "row 3"


# --------------------------------------------------------------------------- email


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Jane.Doe@Example.COM ", "jane.doe@example.com"),
        ("\tBOB@shop.fr\n", "bob@shop.fr"),
        ("Élodie@Exemple.fr", "élodie@exemple.fr"),
    ],
)
def test_email_is_trimmed_and_lower_cased(raw: str, expected: str) -> None:
    assert parse_record(Customer, customer(email=raw)).email == expected


@pytest.mark.parametrize("bad", ["jane", "jane@", "@example.com", "jane@@example.com", "jane doe@example.com", " "])
def test_invalid_email_makes_the_customer_quarantinable(bad: str) -> None:
    with pytest.raises(RecordError) as err:
        parse_record(Customer, customer(email=bad))
    exc = err.value
    assert (exc.entity, exc.record_id, exc.field) == ("customer", "shopify:acme:1001", "email")
    assert "email" in exc.reason
    assert str(exc).startswith("customer shopify:acme:1001, field 'email': ")


def test_error_message_never_repeats_the_bad_value() -> None:
    with pytest.raises(RecordError) as err:
        parse_record(Customer, customer(email="secret-person-at-home"))
    assert "secret-person-at-home" not in str(err.value)


def test_missing_email_is_reported_as_missing() -> None:
    data = customer()
    del data["email"]
    with pytest.raises(RecordError) as err:
        parse_record(Customer, data)
    assert err.value.field == "email"
    assert "missing" in err.value.reason


def test_normalize_email_rejects_garbage_without_a_network_lookup() -> None:
    # A domain that cannot exist would fail a DNS check; syntax-only validation accepts it.
    assert normalize_email("a@no-such-domain-xyz-123.com") == "a@no-such-domain-xyz-123.com"
    with pytest.raises(ValueError):
        normalize_email("not an email")


# --------------------------------------------------------------------------- phone


def test_national_phone_is_normalised_with_the_customers_country() -> None:
    c = parse_record(Customer, customer(phone="06 12 34 56 78", address={"country": "fr"}))
    assert c.phone == "+33612345678"
    assert c.address.country == "FR"
    assert c.issues == ()


def test_international_phone_needs_no_country() -> None:
    c = parse_record(Customer, customer(phone="+44 20 7946 0958"))
    assert c.phone == "+442079460958"


def test_invalid_phone_is_dropped_with_a_reason_and_the_customer_kept() -> None:
    c = parse_record(Customer, customer(phone="12", address={"country": "US"}))
    assert c.phone is None
    assert [i.field for i in c.issues] == ["phone"]
    assert "phone" in c.issues[0].reason
    assert c.email == "jane@example.com"


def test_national_phone_without_a_country_says_what_to_do() -> None:
    c = parse_record(Customer, customer(phone="0612345678"))
    assert c.phone is None
    assert "country" in c.issues[0].reason


def test_normalize_phone_directly() -> None:
    assert normalize_phone("(415) 555-2671", "US") == "+14155552671"
    with pytest.raises(ValueError):
        normalize_phone("+1 555", None)


# --------------------------------------------------------------------------- datetimes


def test_datetimes_are_converted_to_utc() -> None:
    # 01:00 at +02:00 is 23:00 UTC the previous day: the date changes across midnight.
    c = parse_record(Customer, customer(created_at="2025-01-01T01:00:00+02:00"))
    assert c.created_at == datetime(2024, 12, 31, 23, 0, tzinfo=UTC)
    assert c.created_at.utcoffset().total_seconds() == 0


def test_naive_datetimes_are_refused_with_a_hint() -> None:
    with pytest.raises(RecordError) as err:
        parse_record(Customer, customer(updated_at="2025-01-01T10:00:00"))
    assert err.value.field == "updated_at"
    assert "timezone" in err.value.reason


# --------------------------------------------------------------------------- other customer fields


def test_blank_strings_become_none_and_tags_are_deduplicated() -> None:
    c = parse_record(
        Customer,
        customer(first_name="  ", company="  Acme SARL ", tags=[" VIP", "VIP", "", "loyalty "]),
    )
    assert c.first_name is None
    assert c.company == "Acme SARL"
    assert c.tags == ("VIP", "loyalty")


def test_consent_and_birthday() -> None:
    c = parse_record(
        Customer,
        customer(
            birthday="1990-07-14",
            consent={"state": "unsubscribed", "updated_at": "2025-02-01T08:00:00-05:00",
                     "source": "shopify:emailMarketingConsent"},
        ),
    )
    assert c.birthday == date(1990, 7, 14)
    assert c.consent.state is ConsentState.UNSUBSCRIBED
    assert c.consent.updated_at == datetime(2025, 2, 1, 13, 0, tzinfo=UTC)


def test_default_consent_is_not_subscribed() -> None:
    # Nobody is subscribed without evidence.
    assert parse_record(Customer, customer()).consent.state is ConsentState.NOT_SUBSCRIBED


def test_unknown_country_is_refused() -> None:
    with pytest.raises(RecordError) as err:
        parse_record(Customer, customer(address={"country": "XX"}))
    assert err.value.field == "address.country"


def test_models_are_frozen() -> None:
    c = parse_record(Customer, customer())
    with pytest.raises(ValidationError):
        c.email = "other@example.com"  # type: ignore[misc]


# --------------------------------------------------------------------------- orders


def test_money_is_decimal_and_exact() -> None:
    o = parse_record(
        Order,
        order(
            total="0.30",
            subtotal="0.10",
            shipping_total="0.20",
            line_items=[{"title": "Sticker", "quantity": 3, "unit_price": "0.10"}],
        ),
    )
    assert o.total == Decimal("0.30")
    assert o.subtotal + o.shipping_total == o.total  # exact, unlike 0.1 + 0.2 in floats
    assert o.line_items[0].unit_price * o.line_items[0].quantity == Decimal("0.30")


def test_unknown_currency_is_quarantinable() -> None:
    with pytest.raises(RecordError) as err:
        parse_record(Order, order(currency="XYZ"))
    assert (err.value.entity, err.value.field) == ("order", "currency")
    assert "ISO 4217" in err.value.reason


def test_currency_is_upper_cased() -> None:
    assert parse_record(Order, order(currency=" gbp")).currency == "GBP"


@pytest.mark.parametrize(
    ("changes", "expected_net"),
    [
        ({}, Decimal("59.90")),
        ({"refunded_total": "10.00", "financial_status": "partially_refunded"}, Decimal("49.90")),
        ({"refunded_total": "59.90"}, Decimal("0")),
        ({"status": "refunded"}, Decimal("0")),
        ({"status": "cancelled"}, Decimal("0")),
        ({"cancelled_at": "2025-03-02T00:00:00Z"}, Decimal("0")),
        ({"financial_status": "voided"}, Decimal("0")),
    ],
)
def test_net_total_leaves_out_cancellations_and_refunds(changes: dict[str, str], expected_net: Decimal) -> None:
    assert parse_record(Order, order(**changes)).net_total == expected_net


def test_refund_larger_than_the_total_is_refused() -> None:
    with pytest.raises(RecordError) as err:
        parse_record(Order, order(total="10.00", refunded_total="10.01"))
    assert "exceeds" in err.value.reason


def test_guest_order_keeps_the_buyers_email() -> None:
    o = parse_record(Order, order(customer_id=None, email=" Guest@Shop.FR "))
    assert o.customer_id is None
    assert o.email == "guest@shop.fr"
    assert o.status is OrderStatus.COMPLETED
    assert o.financial_status is FinancialStatus.UNKNOWN


def test_negative_quantity_names_the_line() -> None:
    with pytest.raises(RecordError) as err:
        parse_record(Order, order(line_items=[{"title": "A", "quantity": 1, "unit_price": "1"},
                                              {"title": "B", "quantity": -1, "unit_price": "1"}]))
    assert err.value.field == "line_items.1.quantity"


def test_several_bad_fields_are_all_named() -> None:
    with pytest.raises(RecordError) as err:
        parse_record(Order, order(currency="???", total="-1"))
    assert err.value.field in {"currency", "total"}
    assert "also invalid" in err.value.reason


# --------------------------------------------------------------------------- carts


def test_cart_is_abandoned_until_completed() -> None:
    data = {
        "id": "shopify:acme:c1",
        "email": "Cart@Example.com",
        "value": "120.00",
        "currency": "USD",
        "created_at": T0,
        "updated_at": T0,
        "recovery_url": "https://acme.myshopify.com/recover/abc",
        "items": [{"title": "Boots", "quantity": 1, "unit_price": "120.00", "category": "Shoes"}],
    }
    cart = parse_record(Cart, data)
    assert cart.is_abandoned and cart.email == "cart@example.com"
    done = parse_record(Cart, {**data, "completed_at": "2025-03-01T12:00:00+01:00"})
    assert not done.is_abandoned
    assert done.completed_at == datetime(2025, 3, 1, 11, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- robustness


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["id", "email", "created_at", "updated_at", "phone", "tags", "address"]),
                       st.one_of(st.none(), st.text(max_size=30), st.integers(), st.lists(st.text(max_size=5)))))
def test_any_input_gives_a_customer_or_a_record_error_never_a_crash(data: dict[str, object]) -> None:
    try:
        result = parse_record(Customer, data)
    except RecordError as exc:
        assert exc.entity == "customer"
        assert exc.reason
    else:
        assert result.email == result.email.strip().lower()


def test_money_finer_than_four_decimal_places_is_quarantinable() -> None:
    # The store keeps money exactly to 1/10,000; a finer amount must not be rounded silently.
    assert parse_record(Order, order(total="1.2345")).total == Decimal("1.2345")
    with pytest.raises(RecordError) as err:
        parse_record(Order, order(total="1.23456"))
    assert err.value.field == "total" and "4 decimal places" in err.value.reason


def test_attribute_datetimes_must_be_timezone_aware() -> None:
    ok = parse_record(Customer, customer(attributes={"vip_since": datetime(2024, 5, 1, tzinfo=UTC)}))
    assert ok.attributes["vip_since"] == datetime(2024, 5, 1, tzinfo=UTC)
    # A naive datetime is not accepted as a datetime (it stays the string the source sent, or fails).
    naive = parse_record(Customer, customer(attributes={"vip_since": "2024-05-01T00:00:00"}))
    assert naive.attributes["vip_since"] == "2024-05-01T00:00:00"
    with pytest.raises(RecordError):
        parse_record(Customer, customer(attributes={"vip_since": datetime(2024, 5, 1)}))
