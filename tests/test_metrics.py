"""Metrics per person (connector.segments.metrics), on small data sets worked out by hand.

Every expected figure is computed in the comments next to it, from the records the test writes,
never read back from the code. SQLite and PostgreSQL (``store_url``). Reporting currency EUR,
with static rates USD 0.5 and GBP 1.25 (exact in binary, so no rounding question arises) and
no rate for JPY. ``today`` is injected: 2024-04-08.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from connector.clock import ManualClock
from connector.models import Cart, CartItem, Customer, LineItem, MarketingConsent, Order
from connector.segments.metrics import MetricsReport
from connector.store import Store
from connector.store.profiles import MoneyTotal, OpenCart, Profile

pytest_plugins = ["conftest_store"]  # store_url: SQLite, and PostgreSQL when configured

PIPELINE = "shop"
SHOPS = ("acme", "beta")
TODAY = date(2024, 4, 8)
RATES = {"USD": "0.5", "GBP": "1.25"}


def at(text: str) -> datetime:
    """``"2024-01-10 10:00"`` (UTC), or with an explicit offset."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def customer(ref: str, email: str, *, created: str = "2023-01-01", updated: str = "2024-01-01",
             consent: MarketingConsent | None = None, **fields: object) -> Customer:
    return Customer.model_validate({"id": f"shopify:{ref}", "email": email, "created_at": at(created),
                                    "updated_at": at(updated), "consent": consent or MarketingConsent(), **fields})


def line(title: str, quantity: int, *, category: str | None = None, kind: str | None = None,
         refunded: int = 0) -> LineItem:
    return LineItem(title=title, quantity=quantity, unit_price=Decimal(1), category=category, product_type=kind,
                    refunded_quantity=refunded)


def order(ref: str, *, customer: str | None = None, email: str | None = None, total: str = "10",
          currency: str = "EUR", created: str = "2024-01-01 10:00", status: str = "completed",
          financial: str = "paid", refunded: str = "0", cancelled: str | None = None,
          lines: Sequence[LineItem] = (), codes: Sequence[str] = (), channel: str | None = "web",
          test: bool = False) -> Order:
    return Order(id=f"shopify:{ref}", customer_id=f"shopify:{customer}" if customer else None, email=email,
                 status=status, financial_status=financial, currency=currency, total=Decimal(total),
                 refunded_total=Decimal(refunded), created_at=at(created), updated_at=at(created),
                 cancelled_at=at(cancelled) if cancelled else None, line_items=tuple(lines),
                 discount_codes=tuple(codes), source_channel=channel, test=test)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url, clock=ManualClock(at("2024-04-08 06:00"))) as opened:
        yield opened


def compute(store: Store, *, persons: Sequence[str] | None = None, **options: object) -> MetricsReport:
    store.resolve_identities(PIPELINE, SHOPS, exclude_staff=True, exclude_test_orders=True)
    return store.compute_metrics(PIPELINE, today=TODAY, rates=RATES, reporting_currency="EUR", persons=persons,
                          exclude_test_orders=True, shops=SHOPS, **options)  # type: ignore[arg-type]


def profile(store: Store, email: str) -> Profile:
    person_id = store.find_person_id(PIPELINE, email)
    assert person_id is not None, email
    found = store.get_profile(PIPELINE, person_id)
    assert found is not None
    return found


ANN = "ann@example.com"


def ann_in_two_shops(store: Store) -> None:
    """Ann: an account in each shop, orders in four currencies, refunds, a cancellation, an unpaid and a test order."""
    store.upsert_customers([
        customer("acme:1", ANN, created="2023-05-01", updated="2024-01-01", tags=("vip",), first_name="Ann",
                 address={"country": "FR", "city": "Lyon"}),
        customer("beta:1", ANN, created="2023-08-01", updated="2024-02-01", tags=("wholesale",), first_name="Annie",
                 address={"country": "FR", "city": "Paris"}, company="Ann SARL"),
    ])
    store.upsert_orders([
        order("acme:o1", customer="acme:1", total="100", created="2024-01-10 10:00", codes=("WELCOME10",),
              lines=[line("Tee", 2, category="Apparel", kind="Shirt"),
                     line("Mug", 1, category="Home", kind="Kitchen")]),
        # Partly refunded: 80 - 20 = 60 USD kept; one of the three caps came back.
        order("acme:o2", customer="acme:1", total="80", refunded="20", currency="USD", financial="partially_refunded",
              created="2024-02-09 10:00", channel="mobile",
              lines=[line("Cap", 3, category="Apparel", kind="Hat", refunded=1)]),
        order("beta:o3", customer="beta:1", total="40", currency="GBP", status="processing",
              created="2024-03-10 10:00", channel="pos", lines=[line("Vase", 1, category="Home", kind="Decor")]),
        order("beta:o7", customer="beta:1", total="1000", currency="JPY", created="2024-02-20 10:00", channel=None),
        # Not purchases: cancelled (with a code), refunded in full, unpaid, and a test order.
        order("acme:o4", customer="acme:1", total="500", status="cancelled", financial="voided",
              cancelled="2024-01-12 10:00", codes=("BIG50",), lines=[line("Sofa", 10, category="Furniture")]),
        order("acme:o5", customer="acme:1", total="70", refunded="70", status="refunded", financial="refunded",
              created="2024-03-01 10:00"),
        order("acme:o6", customer="acme:1", total="30", status="pending", financial="pending",
              created="2024-04-01 10:00"),
        order("acme:o8", customer="acme:1", total="15", created="2024-04-02 10:00", test=True),
    ])


def test_a_person_in_two_shops_with_refunds_cancellations_and_three_currencies(store: Store) -> None:
    ann_in_two_shops(store)
    compute(store)
    ann = profile(store, ANN)
    # Counted: o1 (EUR 100), o2 (USD 60 net), o3 (GBP 40), o7 (JPY 1000, no rate).
    assert (ann.orders_count, ann.unconverted_orders) == (4, 1)
    assert ann.money == (MoneyTotal(currency="EUR", orders=1, total_spent=Decimal(100)),
                         MoneyTotal(currency="GBP", orders=1, total_spent=Decimal(40)),
                         MoneyTotal(currency="JPY", orders=1, total_spent=Decimal(1000)),
                         MoneyTotal(currency="USD", orders=1, total_spent=Decimal(60)))
    # 100 + 60 x 0.5 + 40 x 1.25 = 100 + 30 + 50 = 180 EUR over the 3 converted orders: 60 each.
    assert (ann.total_spent, ann.average_order_value) == (Decimal(180), Decimal(60))
    assert (ann.first_order_at, ann.last_order_at) == (at("2024-01-10 10:00"), at("2024-03-10 10:00"))
    # Jan 10 -> Mar 10 2024 = 31 + 29 = 60 days, over 4 - 1 gaps.
    assert ann.purchase_frequency == pytest.approx(20.0)
    # Units: Apparel 2 (Tee) + 2 (Cap, 3 less 1 refunded) = 4, Home 1 + 1 = 2; the cancelled sofas do not count.
    assert (ann.favourite_category, ann.categories) == ("Apparel", ("Apparel", "Home"))
    # Types: Shirt 2, Hat 2, Kitchen 1, Decor 1: the tie between Hat and Shirt goes to Hat.
    assert (ann.favourite_product_type, ann.product_types) == ("Hat", ("Decor", "Hat", "Kitchen", "Shirt"))
    assert ann.products == ("Cap", "Mug", "Tee", "Vase")
    assert (ann.discount_orders, ann.discount_codes) == (1, ("WELCOME10",))
    assert ann.channels == ("mobile", "pos", "web")
    assert (ann.shops, ann.shop_tags) == (("acme", "beta"), ("vip", "wholesale"))
    # Person fields from the most recently updated customer (beta:1); signup from the earliest.
    assert (ann.first_name, ann.city, ann.country, ann.company, ann.is_b2b) == ("Annie", "Paris", "FR", "Ann SARL",
                                                                                 True)
    assert ann.signup_at == at("2023-05-01")
    # First order 89 days before today (not new), last 29 days before: active.
    assert (ann.lifecycle, ann.as_of, ann.cart) == ("active", TODAY, None)

    # The test order counts when test orders are not excluded: 5 orders, 180 + 15 EUR.
    store.compute_metrics(PIPELINE, today=TODAY, rates=RATES, reporting_currency="EUR")
    ann = profile(store, ANN)
    assert (ann.orders_count, ann.total_spent, ann.last_order_at) == (5, Decimal(195), at("2024-04-02 10:00"))


def ten_people(store: Store) -> None:
    """Ten buyers in EUR, (last order day, orders, total), orders 30 days apart; and one non-buyer."""
    base = {  # name: (last order, orders, total)
        "p01": ("2023-01-01 12:00", 1, 10), "p02": ("2023-06-01 09:00", 1, 20), "p03": ("2023-06-01 18:00", 2, 30),
        "p04": ("2023-09-01 12:00", 2, 40), "p05": ("2023-12-01 12:00", 3, 50), "p06": ("2024-01-01 12:00", 3, 60),
        "p07": ("2024-02-01 12:00", 4, 70), "p08": ("2024-03-01 12:00", 5, 80), "p09": ("2024-03-15 12:00", 5, 80),
        "p10": ("2024-04-01 12:00", 8, 200),
    }
    customers, orders = [], []
    for name, (last, count, total) in base.items():
        customers.append(customer(f"acme:{name}", f"{name}@example.com"))
        for k in range(count):  # k = 0 is the last order; the last carries what the others (1 EUR each) leave
            amount = total - (count - 1) if k == 0 else 1
            created = (at(last) - timedelta(days=30 * k)).isoformat()
            orders.append(order(f"acme:{name}-{k}", customer=f"acme:{name}", total=str(amount), created=created))
    customers.append(customer("acme:p00", "p00@example.com"))
    orders.append(order("acme:p00-0", customer="acme:p00", total="999", status="cancelled", financial="voided",
                        cancelled="2024-01-01 00:00"))
    store.upsert_customers(customers)
    store.upsert_orders(orders)


def test_rfm_scores_ranks_and_groups_on_a_ten_person_base(store: Store) -> None:
    ten_people(store)
    assert compute(store) == MetricsReport(persons=11, buyers=10, rfm_updated=10)
    # n = 10 persons with an order (p00 has none): score = 1 + floor(5 (rank - 1) / 10).
    # Recency by UTC day (p02 and p03 share 2023-06-01: rank 2): ranks 1,2,2,4,5,6,7,8,9,10.
    # Frequency 1,1,2,2,3,3,4,5,5,8: ranks 1,1,3,3,5,5,7,8,8,10. Monetary 10..80,80,200: 1..7,8,8,10.
    expected = {  # R, F, M, group (R and FM = (F + M + 1) // 2 on the grid), lifecycle (days since last order)
        "p01": (1, 1, 1, "Lost", "lapsed"),                    # 463 days
        "p02": (1, 1, 1, "Lost", "inactive"),                  # 312
        "p03": (1, 2, 2, "Lost", "inactive"),                  # FM 2, R 1
        "p04": (2, 2, 2, "Hibernating", "inactive"),           # 220
        "p05": (3, 3, 3, "Need attention", "at_risk"),         # 129
        "p06": (3, 3, 3, "Need attention", "at_risk"),         # 98
        "p07": (4, 4, 4, "Champions", "active"),               # 67
        "p08": (4, 4, 4, "Champions", "active"),               # 38
        "p09": (5, 4, 4, "Champions", "active"),               # 24
        "p10": (5, 5, 5, "Champions", "active"),               # 7 (first order 217 days ago: not new)
    }
    for name, (r, f, m, group, stage) in expected.items():
        person = profile(store, f"{name}@example.com")
        assert (person.rfm_recency, person.rfm_frequency, person.rfm_monetary, person.rfm_group, person.lifecycle) \
            == (r, f, m, group, stage), name
    nobody = profile(store, "p00@example.com")
    assert (nobody.orders_count, nobody.rfm_recency, nobody.rfm_group, nobody.lifecycle) == (0, None, None, "prospect")
    assert (nobody.total_spent, nobody.average_order_value, nobody.first_order_at) == (Decimal(0), None, None)


def test_spend_percentile_is_the_share_of_buyers_who_spent_less(store: Store) -> None:
    ten_people(store)
    compute(store)
    # Totals 10, 20, ..., 70, 80, 80, 200 over n = 10 buyers: floor(100 * (buyers below) / 10).
    expected = {"p01": 0, "p02": 10, "p03": 20, "p04": 30, "p05": 40, "p06": 50, "p07": 60,
                "p08": 70, "p09": 70, "p10": 90}  # p08 and p09 tie at 80: seven spent less
    assert {name: profile(store, f"{name}@example.com").spend_percentile for name in expected} == expected
    assert profile(store, "p00@example.com").spend_percentile is None  # no counted order
    # p01 buys for 500 more (510 in all): now the top spender; everyone from p02 to p10 moves down one.
    store.upsert_orders([order("acme:p01-extra", customer="acme:p01", total="500", created="2024-04-05 10:00")])
    report = compute(store, persons=[store.find_person_id(PIPELINE, "p01@example.com") or ""])
    assert profile(store, "p01@example.com").spend_percentile == 90
    # Every other buyer's percentile moved down by 10: all nine are reported as re-scored (so their
    # contacts are planned too); p01 was in the computed scope, p00 bought nothing.
    others = {store.find_person_id(PIPELINE, f"p{k:02d}@example.com") for k in range(2, 11)}
    assert set(report.rescored or ()) == others
    assert profile(store, "p02@example.com").spend_percentile == 0
    assert profile(store, "p10@example.com").spend_percentile == 80


def test_days_are_utc_days_around_midnight_and_lifecycle_uses_the_injected_today(store: Store) -> None:
    store.upsert_customers([customer("acme:1", "tz@example.com"), customer("acme:2", "edge@example.com"),
                            customer("acme:3", "inside@example.com")])
    store.upsert_orders([
        # 23:30 in UTC-5 on March 9 is 04:30 UTC on March 10: the day that counts is March 10, 29 days
        # before today, so a new customer (the local day, March 9, would be 30 days: not new).
        order("acme:o1", customer="acme:1", created="2024-03-09 23:30:00-05:00"),
        # Exactly 90 days before today (2024-01-09, late in the day): no longer active, at risk.
        order("acme:o2", customer="acme:2", created="2023-06-01 10:00"),
        order("acme:o3", customer="acme:2", created="2024-01-09 23:59"),
        # 89 days (2024-01-10, just after midnight): still active.
        order("acme:o4", customer="acme:3", created="2023-06-01 10:00"),
        order("acme:o5", customer="acme:3", created="2024-01-10 00:01"),
    ])
    compute(store)
    tz = profile(store, "tz@example.com")
    assert (tz.first_order_at, tz.lifecycle) == (at("2024-03-10 04:30"), "new")
    assert profile(store, "edge@example.com").lifecycle == "at_risk"
    assert profile(store, "inside@example.com").lifecycle == "active"
    # Another day, another stage: 2024-04-09 makes the March 10 order 30 days old.
    store.compute_metrics(PIPELINE, today=date(2024, 4, 9), rates=RATES, reporting_currency="EUR")
    assert profile(store, "tz@example.com").lifecycle == "active"


def test_open_cart_versus_recovered_cart(store: Store) -> None:
    store.upsert_customers([customer("acme:1", "open@example.com"), customer("acme:2", "back@example.com"),
                            customer("acme:3", "unpaid@example.com"), customer("acme:4", "out@example.com")])
    items = (CartItem(title="Tee", quantity=2, unit_price=Decimal(10)),
             CartItem(title="Cap", quantity=1, unit_price=Decimal("25.50")))

    def cart(ref: str, who: str, email: str, updated: str, *, value: str = "10", completed: str | None = None,
             currency: str = "EUR", url: str | None = None) -> Cart:
        return Cart(id=f"shopify:{ref}", customer_id=f"shopify:{who}" if who else None, email=email,
                    items=items, value=Decimal(value), currency=currency, created_at=at(updated),
                    updated_at=at(updated), completed_at=at(completed) if completed else None, recovery_url=url)

    store.upsert_carts([
        cart("acme:k1", "acme:1", "open@example.com", "2024-03-01 10:00"),
        cart("acme:k2", "acme:1", "open@example.com", "2024-03-05 10:00", value="45.50", currency="USD",
             url="https://acme.example/recover/k2"),
        cart("acme:k3", "acme:1", "open@example.com", "2024-03-06 10:00", completed="2024-03-06 10:05"),
        cart("acme:k4", "acme:2", "back@example.com", "2024-03-01 10:00"),
        cart("acme:k5", "acme:3", "unpaid@example.com", "2024-03-10 10:00"),
        cart("acme:k6", "", "gus@example.com", "2024-03-12 10:00", value="5"),  # a guest's cart
        cart("acme:k7", "", "out@example.com", "2024-03-20 10:00", value="7"),  # an account holder, logged out
    ])
    store.upsert_orders([
        order("acme:o1", customer="acme:2", created="2024-03-02 10:00"),  # paid after k4: recovered
        order("acme:o2", customer="acme:3", created="2024-03-11 10:00", status="pending", financial="pending"),
        order("acme:g1", email="gus@example.com", created="2024-03-01 10:00"),  # gus bought before his cart
    ])
    compute(store)
    # k3 is completed; k2 is the latest open one: 45.50 USD = 22.75 EUR, 2 + 1 = 3 items.
    assert profile(store, "open@example.com").cart == OpenCart(
        value=Decimal("45.5"), currency="USD", value_reporting=Decimal("22.75"), items=3,
        recovery_url="https://acme.example/recover/k2", abandoned_at=at("2024-03-05 10:00"))
    assert profile(store, "back@example.com").cart is None
    out = profile(store, "out@example.com").cart  # a cart without a customer is the person's with that email
    assert out is not None and (out.value, out.abandoned_at) == (Decimal(7), at("2024-03-20 10:00"))
    unpaid = profile(store, "unpaid@example.com").cart  # an unpaid order does not recover the cart
    assert unpaid is not None and unpaid.abandoned_at == at("2024-03-10 10:00")
    gus = profile(store, "gus@example.com").cart
    assert gus is not None and (gus.value, gus.value_reporting) == (Decimal(5), Decimal(5))


def test_consent_takes_the_most_recent_evidence_across_a_persons_customers(store: Store) -> None:
    def consent(state: str, when: str | None, source: str = "shopify:emailMarketingConsent") -> MarketingConsent:
        return MarketingConsent(state=state, updated_at=at(when) if when else None, source=source)

    store.upsert_customers([
        # An unsubscribe is not overridden by an older subscribe.
        customer("acme:1", "a@example.com", consent=consent("unsubscribed", "2024-02-01")),
        customer("beta:1", "a@example.com", updated="2024-03-01", consent=consent("subscribed", "2024-01-01")),
        # A newer opt-in after an unsubscribe does count.
        customer("acme:2", "b@example.com", consent=consent("unsubscribed", "2024-01-01")),
        customer("beta:2", "b@example.com", consent=consent("subscribed", "2024-02-01")),
        # A record without evidence (":default") never overrides real evidence, however recent.
        customer("acme:3", "c@example.com", consent=consent("subscribed", "2024-01-01")),
        customer("beta:3", "c@example.com", updated="2024-03-01",
                 consent=consent("not_subscribed", "2024-03-01", "woocommerce:default")),
        # Only records without evidence: the most recent of them.
        customer("acme:4", "d@example.com", consent=consent("not_subscribed", None, "default")),
        # An undated subscribe is older than any dated unsubscribe.
        customer("acme:5", "e@example.com", consent=consent("subscribed", None)),
        customer("beta:5", "e@example.com", consent=consent("unsubscribed", "2023-01-01")),
    ])
    compute(store)
    got = {email: (p.consent_state.value, p.consent_at, p.consent_source)
           for email in ("a", "b", "c", "d", "e") for p in [profile(store, f"{email}@example.com")]}
    assert got == {
        "a": ("unsubscribed", at("2024-02-01"), "shopify:emailMarketingConsent"),
        "b": ("subscribed", at("2024-02-01"), "shopify:emailMarketingConsent"),
        "c": ("subscribed", at("2024-01-01"), "shopify:emailMarketingConsent"),
        "d": ("not_subscribed", None, "default"),
        "e": ("unsubscribed", at("2023-01-01"), "shopify:emailMarketingConsent"),
    }


def test_favourite_category_ties_go_to_the_first_name_alphabetically(store: Store) -> None:
    store.upsert_customers([customer("acme:1", "tie@example.com")])
    store.upsert_orders([
        order("acme:o1", customer="acme:1",
              lines=[line("Lamp", 2, category="Lighting"), line("Bag", 1, category="Bags")]),
        order("acme:o2", customer="acme:1", created="2024-01-02 10:00", lines=[line("Tote", 1, category="Bags")]),
    ])
    compute(store)
    # Bags 1 + 1 = 2, Lighting 2: a tie, and "Bags" < "Lighting".
    assert profile(store, "tie@example.com").favourite_category == "Bags"


def test_custom_attributes_take_the_most_recently_updated_valid_value(store: Store) -> None:
    store.upsert_customers([
        customer("acme:1", "a@example.com", updated="2024-01-01",
                 attributes={"facts.birthday": date(1990, 5, 1), "facts.tier": "gold", "points": Decimal("12.5"),
                             "_since": "2019-07-14"}),
        customer("beta:1", "a@example.com", updated="2024-02-01",
                 attributes={"facts.tier": "silver", "points": "lots", "_since": "2019-02-30"}),
        customer("acme:2", "b@example.com", attributes={"points": "42", "facts.birthday": "not a date"}),
    ])
    compute(store, attributes={"birthday": ("facts.birthday", "date"), "tier": ("facts.tier", "text"),
                               "points": ("points", "number"), "since": ("_since", "date")})
    # tier: beta:1 is newer; points: beta:1's "lots" is no number, so acme:1's; since: Feb 30 is no date.
    assert profile(store, "a@example.com").attributes == {
        "birthday": date(1990, 5, 1), "tier": "silver", "points": Decimal("12.5"), "since": date(2019, 7, 14)}
    assert profile(store, "b@example.com").attributes == {"points": Decimal(42)}


def test_a_guest_without_an_account_has_metrics_from_guest_orders(store: Store) -> None:
    store.upsert_orders([
        order("acme:g1", email="gus@example.com", total="20", created="2024-03-01 10:00"),
        order("beta:g2", email="gus@example.com", total="30", currency="GBP", created="2024-03-20 10:00"),
        order("other:g3", email="gus@example.com", total="99", created="2024-03-21 10:00"),  # not this pipeline's shop
    ])
    compute(store)
    gus = profile(store, "gus@example.com")
    # 20 EUR + 30 GBP x 1.25 = 57.50 EUR; 57.50 / 2 = 28.75.
    assert (gus.orders_count, gus.total_spent, gus.average_order_value) == (2, Decimal("57.5"), Decimal("28.75"))
    assert (gus.shops, gus.customer_ids, gus.signup_at, gus.consent_state.value) == (
        ("acme", "beta"), (), None, "not_subscribed")


def test_an_incremental_recompute_matches_a_full_one(store: Store) -> None:
    ann_in_two_shops(store)
    ten_people(store)
    compute(store)
    # A sync: a new order for p01 (now the most recent buyer), a refund for Ann, p02's new email,
    # and a new guest checkout.
    store.upsert_orders([
        order("acme:p01-new", customer="acme:p01", total="500", created="2024-04-07 10:00",
              lines=[line("Desk", 1, category="Furniture")]),
        order("acme:o1", customer="acme:1", total="100", refunded="100", status="refunded", financial="refunded",
              created="2024-01-10 10:00"),
        order("acme:g9", email="new.guest@example.com", created="2024-04-01 10:00"),
    ])
    store.upsert_customers([customer("acme:p02", "p02@new.example", updated="2024-04-01")])
    report = store.resolve_identities(PIPELINE, SHOPS, exclude_staff=True, exclude_test_orders=True,
                                      changed_customer_ids=["shopify:acme:p01", "shopify:acme:1", "shopify:acme:p02"],
                                      changed_guest_emails=["new.guest@example.com"])
    assert report.touched is not None and len(report.touched) == 4
    store.compute_metrics(PIPELINE, today=TODAY, rates=RATES, reporting_currency="EUR", persons=report.touched,
                          exclude_test_orders=True, shops=SHOPS)
    emails = [ANN, "p02@new.example", "new.guest@example.com", *(f"p{n:02d}@example.com" for n in (1, *range(3, 11)))]
    incremental = {email: profile(store, email) for email in emails}
    assert incremental["p01@example.com"].rfm_recency == 5  # re-ranked: the latest order of all now
    assert incremental[ANN].orders_count == 3  # o1 refunded in full
    store.compute_metrics(PIPELINE, today=TODAY, rates=RATES, reporting_currency="EUR", exclude_test_orders=True,
                          shops=SHOPS)
    assert {email: profile(store, email) for email in emails} == incremental
