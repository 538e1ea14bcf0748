"""The data generator: determinism, realistic shares, invariants, ShopState semantics, overlay, memory."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from pydantic import ValidationError

from connector.sandbox.datagen import GeneratedShop, ShopSpec
from connector.sandbox.records import ShopCart, ShopCustomer, ShopOrder
from connector.sandbox.shop import Kind, OrderBy, ShopState

END = datetime(2026, 1, 1, tzinfo=UTC)
KINDS: tuple[Kind, ...] = ("customers", "orders", "carts")
ORDERINGS: tuple[OrderBy, ...] = ("key", "updated_at", "created_at")


def _all(shop: GeneratedShop, kind: Kind) -> list[Any]:
    """Every record of ``kind``, by ``get``."""
    state: Any = shop  # get() is overloaded per literal kind
    return [state.get(kind, k) for k in range(1, shop.count(kind) + 1)]


@pytest.fixture(scope="module")
def shop() -> GeneratedShop:
    """1,500 customers, ~7,500 orders: enough for order-level shares."""
    return GeneratedShop(ShopSpec(name="acme", seed=7, customers=1_500))


@pytest.fixture(scope="module")
def orders(shop: GeneratedShop) -> list[ShopOrder]:
    return _all(shop, "orders")


@pytest.fixture(scope="module")
def customers(shop: GeneratedShop) -> list[ShopCustomer]:
    return _all(shop, "customers")


@pytest.fixture(scope="module")
def people() -> list[ShopCustomer]:
    """20,000 customers (few orders, to build fast) for customer-level shares."""
    big = GeneratedShop(ShopSpec(name="people", seed=11, customers=20_000, orders_per_customer=0.2))
    return _all(big, "customers")


def _share(items: Sequence[Any], predicate: Callable[[Any], object]) -> float:
    return sum(1 for item in items if predicate(item)) / len(items)


# -- determinism --------------------------------------------------------------------------------
def test_same_spec_same_shop_and_another_seed_another_shop() -> None:
    spec = ShopSpec(name="a", seed=3, customers=150)
    one, two, other = GeneratedShop(spec), GeneratedShop(spec), GeneratedShop(spec.model_copy(update={"seed": 4}))
    for kind in KINDS:
        assert one.count(kind) == two.count(kind)
        assert _all(one, kind) == _all(two, kind)
    assert one.catalog == two.catalog
    emails = {c.email for c in _all(one, "customers")}
    assert len(emails & {c.email for c in _all(other, "customers")}) < 5
    assert [o.created_at for o in _all(one, "orders")[:50]] != [o.created_at for o in _all(other, "orders")[:50]]


def test_defaults_are_fixed_and_reproducible() -> None:
    spec = ShopSpec(name="a", seed=1, customers=10)
    assert (spec.start, spec.end) == (datetime(2021, 1, 1, tzinfo=UTC), END)
    assert ShopSpec.model_validate(json.loads(json.dumps(spec.model_dump(mode="json")))) == spec


def test_spec_is_validated() -> None:
    with pytest.raises(ValidationError):
        ShopSpec(name="a", seed=1, customers=10, start=datetime(2021, 1, 1))  # naive
    with pytest.raises(ValidationError):
        ShopSpec(name="a", seed=1, customers=10, currencies=(("XYZ", 1.0),))
    with pytest.raises(ValidationError):
        ShopSpec(name="a", seed=1, customers=10, start=END, end=END)


def test_is_a_shop_state(shop: GeneratedShop) -> None:
    assert isinstance(shop, ShopState)
    assert shop.name == "acme" and shop.base_currency == "USD"


# -- catalogue ----------------------------------------------------------------------------------
def test_catalog(shop: GeneratedShop, orders: list[ShopOrder]) -> None:
    assert len(shop.catalog) == 200
    assert len({p.category for p in shop.catalog}) == 20
    assert len({p.sku for p in shop.catalog}) == 200
    assert all(p.price > 0 and p.price == p.price.quantize(Decimal("0.01")) for p in shop.catalog)
    sold = Counter(line.product.product_id for o in orders for line in o.lines)
    top = [count for _, count in sold.most_common()]
    assert top[0] > 10 * top[len(top) // 2]  # Zipf-like: a few products sell most


# -- customers ----------------------------------------------------------------------------------
_PLAIN_EMAIL = re.compile(r"[a-z0-9][a-z0-9._-]*@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}")


def _valid_email(raw: str) -> bool:
    try:
        validate_email(raw.strip().lower(), check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def test_emails_mostly_valid_some_messy_a_few_invalid(people: list[ShopCustomer]) -> None:
    # email-validator is slow-ish: it checks every address that is not plainly well-formed, and a
    # sample of the plain ones.
    plain = [c.email for c in people if _PLAIN_EMAIL.fullmatch(c.email.strip().lower())]
    assert all(_valid_email(e) for e in random.Random(0).sample(plain, 2_000))
    invalid = [c.email for c in people if not _PLAIN_EMAIL.fullmatch(c.email.strip().lower())
               and not _valid_email(c.email)]
    assert 0.002 <= len(invalid) / len(people) <= 0.008
    assert len({re.sub(r"[a-z0-9]", "", e) for e in invalid}) >= 4  # broken in several ways
    messy = _share(people, lambda c: c.email != c.email.strip().lower())
    assert 0.02 <= messy <= 0.045
    domains = Counter(c.email.strip().lower().rpartition("@")[2] for c in people)
    assert {"gmail.com", "orange.fr", "gmx.de", "outlook.com", "yahoo.fr"} <= set(domains)
    assert not any(d.endswith((".test", ".invalid", ".example", "example.com")) for d in domains)


def test_phones_valid_for_the_customers_country(people: list[ShopCustomer]) -> None:
    phones = [c for c in people if c.phone]
    assert 0.67 <= len(phones) / len(people) <= 0.73

    def valid(c: Any) -> bool:
        try:
            return phonenumbers.is_valid_number(phonenumbers.parse(c.phone, c.country))
        except phonenumbers.NumberParseException:
            return False

    assert _share(random.Random(0).sample(phones, 4_000), valid) >= 0.95
    assert any(str(p.phone).startswith("+") for p in phones) and any(str(p.phone).startswith("0") for p in phones)


def test_customer_profile_shares(people: list[ShopCustomer]) -> None:
    consent = Counter[str](c.consent for c in people)
    for state, share in {"subscribed": 0.45, "not_subscribed": 0.35, "unsubscribed": 0.12, "pending": 0.08}.items():
        assert abs(consent[state] / len(people) - share) < 0.02, state
    assert all((c.consent_updated_at is None) == (c.consent == "not_subscribed") for c in people)
    assert all(c.consent_updated_at is None or c.created_at <= c.consent_updated_at <= c.updated_at for c in people)
    assert len({c.country for c in people}) >= 8
    assert 0.06 <= _share(people, lambda c: c.company) <= 0.10
    assert all(("wholesale" in c.tags) == bool(c.company) for c in people)
    loyal = [c for c in people if c.loyalty_tier]
    assert 0.13 <= len(loyal) / len(people) <= 0.17
    assert all(f"loyalty-{c.loyalty_tier}" in c.tags for c in loyal)
    assert 0.37 <= _share(people, lambda c: c.birthday) <= 0.43
    assert 1 <= sum(c.is_staff for c in people) <= 10 and people[0].is_staff
    assert all(c.locale is None or c.locale.endswith(str(c.country)) for c in people)


def test_addresses_consistent_per_country(people: list[ShopCustomer]) -> None:
    patterns = {"FR": r"\d{5}", "US": r"\d{5}", "DE": r"\d{5}", "GB": r"[A-Z]{1,2}\d{1,2} \d[A-Z]{2}",
                "CA": r"[A-Z]\d[A-Z] \d[A-Z]\d", "BE": r"\d{4}", "ES": r"\d{5}", "IT": r"\d{5}"}
    cities: dict[str, set[str | None]] = {}
    for c in people:
        if c.postal_code:
            assert re.fullmatch(patterns[str(c.country)], c.postal_code), (c.country, c.postal_code)
            cities.setdefault(str(c.city), set()).add(c.country)
    assert all(len(countries) == 1 for countries in cities.values())


# -- orders -------------------------------------------------------------------------------------
def test_order_invariants(shop: GeneratedShop, orders: list[ShopOrder]) -> None:
    for o in orders:
        assert o.number == 1000 + o.key
        assert o.total == o.subtotal + o.shipping + o.tax
        assert o.shipping >= 0 and o.tax >= 0 and o.subtotal > 0
        assert 1 <= len(o.lines) <= 12 and all(line.quantity >= 1 for line in o.lines)
        assert o.refunded_total <= o.total
        if o.financial == "partially_refunded":
            assert 0 < o.refunded_total < o.total
        if o.financial == "refunded":
            assert o.refunded_total == o.total
        assert o.created_at <= o.updated_at <= END
        assert (o.processed_at is None) == (o.status in ("pending", "failed", "checkout-draft"))
        assert (o.cancelled_at is not None) == (o.status == "cancelled")
        assert o.currency in ("USD", "EUR", "GBP") and o.billing_country


def test_order_shares(shop: GeneratedShop, orders: list[ShopOrder]) -> None:
    n = len(orders)
    assert 0.95 * 7_500 <= n <= 1.05 * 7_500
    currencies = Counter(o.currency for o in orders)
    for code, share in {"USD": 0.6, "EUR": 0.25, "GBP": 0.15}.items():
        assert abs(currencies[code] / n - share) < 0.05, code
    assert 0.035 <= _share(orders, lambda o: o.customer_key is None) <= 0.065
    assert 0.015 <= _share(orders, lambda o: o.status == "cancelled") <= 0.027
    assert 0.022 <= _share(orders, lambda o: o.financial == "refunded" and o.status != "cancelled") <= 0.038
    assert 0.014 <= _share(orders, lambda o: o.financial == "partially_refunded") <= 0.026
    assert 0.001 <= _share(orders, lambda o: o.test) <= 0.01
    assert 0.8 <= _share(orders, lambda o: o.status == "completed") <= 0.93
    assert 0.12 <= _share(orders, lambda o: o.discount_codes) <= 0.18
    assert {"web", "pos", "mobile"} == {o.source_channel for o in orders}
    assert {"pending", "failed", "checkout-draft", "processing"} <= {o.status for o in orders}
    lines = sum(len(o.lines) for o in orders) / n
    assert 2.2 <= lines <= 2.6  # 1 + Poisson(1.4)


def _by_customer(orders: list[ShopOrder]) -> dict[int, list[ShopOrder]]:
    mine: dict[int, list[ShopOrder]] = {}
    for o in orders:
        if o.customer_key is not None:
            mine.setdefault(o.customer_key, []).append(o)
    return mine


def test_activity_is_skewed(orders: list[ShopOrder], customers: list[ShopCustomer]) -> None:
    mine = _by_customer(orders)
    counts = [len(mine.get(c.key, ())) for c in customers]
    assert 0.20 <= counts.count(0) / len(counts) <= 0.30
    assert max(counts) >= 8 * (sum(counts) / len(counts))


def test_guest_orders(shop: GeneratedShop, orders: list[ShopOrder], customers: list[ShopCustomer]) -> None:
    by_email = {c.email: c for c in customers}
    guests = [o for o in orders if o.customer_key is None]
    known = [o for o in guests if o.email in by_email]
    assert 0.2 * len(guests) <= len(known) <= 0.7 * len(guests)  # some belong to account holders
    assert any(by_email[o.email].created_at > o.created_at for o in known)  # who registered later


def test_orders_follow_their_customer(shop: GeneratedShop, orders: list[ShopOrder],
                                     customers: list[ShopCustomer]) -> None:
    by_customer = _by_customer(orders)
    for c in customers:
        assert c.created_at <= c.updated_at <= END
        mine = by_customer.get(c.key, [])
        assert all(o.created_at >= c.created_at for o in mine)
        if mine:
            assert c.updated_at >= max(o.created_at for o in mine)
        opt_in = {"_newsletter_optin": "yes"} if c.consent == "subscribed" else {}
        assert all(o.meta == opt_in for o in mine)
    for c in customers[::40]:
        assert shop.orders_of(c.key) == by_customer.get(c.key, [])
    assert shop.orders_of(0) == [] and shop.orders_of(10**6) == []


def test_keys_are_chronological(orders: list[ShopOrder], customers: list[ShopCustomer]) -> None:
    assert all(a.created_at <= b.created_at for a, b in zip(orders, orders[1:], strict=False))
    assert all(a.created_at <= b.created_at for a, b in zip(customers, customers[1:], strict=False))


def test_carts(shop: GeneratedShop) -> None:
    carts: list[ShopCart] = _all(shop, "carts")
    assert len(carts) == 450
    assert 0.25 <= _share(carts, lambda c: c.completed_at) <= 0.35
    assert 0.7 <= _share(carts, lambda c: c.customer_key) <= 0.95
    recent = [c for c in carts if c.updated_at > END - timedelta(days=60) and c.completed_at is None]
    assert len(recent) >= 0.1 * len(carts)
    for c in carts:
        assert 1 <= len(c.lines) <= 4 and re.fullmatch(r"[0-9a-f]{32}", c.token)
        assert c.created_at <= c.updated_at <= END and c.email
        assert c.completed_at is None or c.completed_at >= c.created_at
        if c.customer_key:
            owner = shop.get("customers", c.customer_key)
            assert owner is not None and owner.created_at <= c.created_at


# -- ShopState semantics ------------------------------------------------------------------------
def _position(record: Any, order_by: str) -> tuple[Any, ...]:
    if order_by == "key":
        return (record.key,)
    return (getattr(record, order_by), record.key)


def _expected(records: list[Any], order_by: str, after: Any, low: datetime | None, high: datetime | None,
              reverse: bool, limit: int) -> list[int]:
    """What a scan must return, by brute force over every record."""
    rows = [r for r in records if (low is None or r.updated_at > low) and (high is None or r.updated_at < high)]
    rows.sort(key=lambda r: _position(r, order_by), reverse=reverse)
    if after is not None:
        bound = (after,) if order_by == "key" else after
        rows = [r for r in rows if (_position(r, order_by) < bound if reverse else _position(r, order_by) > bound)]
    return [r.key for r in rows[:limit]]


def _mutated_small_shop() -> GeneratedShop:
    small = GeneratedShop(ShopSpec(name="small", seed=5, customers=120))
    at = datetime(2023, 6, 1, tzinfo=UTC)
    for key in (3, 50, 110):
        small.update("customers", key, at, tags=("moved",))  # same timestamp: ties broken by key
    small.update("customers", 7, END + timedelta(days=1), first_name="Late")
    small.update("orders", 10, datetime(2021, 1, 1, 0, 0, 1, tzinfo=UTC), status="completed")
    small.add("customers", at + timedelta(microseconds=5), email="new@gmail.com")
    small.add("orders", at, customer_key=4)
    small.add("carts", END, email="someone@gmail.com")
    return small


@pytest.fixture(scope="module")
def small() -> GeneratedShop:
    """A small shop with changes of every sort; the scan tests only read it."""
    return _mutated_small_shop()


@pytest.fixture(scope="module")
def small_records(small: GeneratedShop) -> dict[str, list[Any]]:
    return {kind: _all(small, kind) for kind in KINDS}


def test_scan_matches_brute_force(small: GeneratedShop, small_records: dict[str, list[Any]]) -> None:
    rng = random.Random(1)
    for kind in KINDS:
        records = small_records[kind]
        times = sorted(r.updated_at for r in records)
        for _ in range(30):
            order_by = rng.choice(ORDERINGS)
            reverse = rng.random() < 0.5
            low = rng.choice([None, rng.choice(times), rng.choice(times) - timedelta(microseconds=1)])
            high = rng.choice([None, rng.choice(times), END + timedelta(days=2)])
            pick = rng.choice(records)
            after = rng.choice([None, pick.key if order_by == "key" else (getattr(pick, order_by), pick.key)])
            limit = rng.choice([1, 7, 50, 700])
            got = small.scan(kind, order_by=order_by, after=after, updated_after=low,
                             updated_before=high, reverse=reverse, limit=limit)
            assert [r.key for r in got] == _expected(records, order_by, after, low, high, reverse, limit)
            assert small.count(kind, updated_after=low, updated_before=high) == len(
                _expected(records, "key", None, low, high, False, 10**9))


@pytest.mark.parametrize("order_by", ORDERINGS)
@pytest.mark.parametrize("reverse", [False, True])
def test_paging_yields_every_key_once(small: GeneratedShop, small_records: dict[str, list[Any]], order_by: OrderBy,
                                     reverse: bool) -> None:
    for kind in KINDS:
        seen: list[int] = []
        after: Any = None
        while page := small.scan(kind, order_by=order_by, after=after, reverse=reverse, limit=37):
            seen += [r.key for r in page]
            last = page[-1]
            after = last.key if order_by == "key" else (getattr(last, order_by), last.key)
        assert sorted(seen) == list(range(1, small.count(kind) + 1))
        assert seen == _expected(small_records[kind], order_by, None, None, None, reverse, 10**9)


def test_strict_bounds_and_exclusive_after(shop: GeneratedShop) -> None:
    first = shop.scan("orders", order_by="updated_at", limit=3)
    t = first[1].updated_at
    assert all(o.updated_at > t for o in shop.scan("orders", order_by="updated_at", updated_after=t, limit=5))
    assert all(o.updated_at < t for o in shop.scan("orders", order_by="updated_at", updated_before=t, limit=5))
    nxt = shop.scan("orders", order_by="updated_at", after=(t, first[1].key), limit=1)
    assert nxt == [first[2]]
    assert shop.scan("customers", after=10, limit=2)[0].key == 11
    assert [c.key for c in shop.scan("customers", after=10, reverse=True, limit=2)] == [9, 8]
    assert shop.scan("customers", limit=0) == []


def test_scan_rejects_bad_arguments(shop: GeneratedShop) -> None:
    with pytest.raises(ValueError):
        shop.scan("orders", order_by="updated_at", after=5)
    with pytest.raises(ValueError):
        shop.scan("orders", after=(END, 1))
    with pytest.raises(ValueError):
        shop.count("orders", updated_after=datetime(2024, 1, 1))  # naive
    with pytest.raises(ValueError):
        shop.scan("products", limit=1)  # type: ignore[arg-type]
    assert shop.get("orders", 0) is None and shop.get("orders", 10**9) is None


# -- mutations ----------------------------------------------------------------------------------
def test_update_moves_a_record_in_updated_at_order() -> None:
    small = GeneratedShop(ShopSpec(name="m", seed=2, customers=100))
    before = small.count("customers", updated_after=END - timedelta(days=1))
    new = small.update("customers", 5, END + timedelta(hours=1), consent="unsubscribed")
    assert isinstance(new, ShopCustomer) and new.consent == "unsubscribed" and new.key == 5
    assert small.get("customers", 5) == new
    assert small.scan("customers", order_by="updated_at", reverse=True, limit=1) == [new]
    assert small.count("customers", updated_after=END - timedelta(days=1)) == before + 1
    assert small.count("customers") == 100
    assert 5 not in [c.key for c in small.scan("customers", order_by="updated_at", updated_before=END, limit=1000)]
    with pytest.raises(KeyError):
        small.update("customers", 101, END)
    with pytest.raises(TypeError):
        small.update("customers", 5, END, no_such_field=1)


def test_add_creates_the_next_key_and_touches_the_customer() -> None:
    small = GeneratedShop(ShopSpec(name="m", seed=2, customers=100))
    n_orders = small.count("orders")
    at = END + timedelta(days=3)
    customer = small.add("customers", at, email="Fresh.Person@gmail.com", first_name="Fresh")
    assert customer.key == 101 and customer.created_at == customer.updated_at == at
    order = small.add("orders", at + timedelta(seconds=1), customer_key=customer.key)
    assert isinstance(order, ShopOrder)
    assert order.key == n_orders + 1 and order.number == 1000 + order.key and order.email == customer.email
    assert small.orders_of(101) == [order]
    touched = small.get("customers", 101)
    assert touched is not None and touched.updated_at == order.created_at
    assert small.scan("orders", order_by="created_at", reverse=True, limit=1) == [order]
    moved = small.update("orders", 1, at, customer_key=101)
    assert [o.key for o in small.orders_of(101)] == [1, order.key]
    second = small.get("orders", 2)
    assert second is not None and moved not in small.orders_of(second.customer_key or 0)
    cart = small.add("carts", at, email="x@gmail.com")
    assert isinstance(cart, ShopCart) and re.fullmatch(r"[0-9a-f]{32}", cart.token)
    with pytest.raises(ValueError):
        small.add("orders", at, key=5, email="a@b.co")
    with pytest.raises(TypeError):
        small.add("customers", at)  # no email


def test_dump_load_round_trip() -> None:
    small = _mutated_small_shop()
    small.update("orders", 20, END, refunds=(), tax=Decimal("1.50"), meta={"note": "x"})
    data = json.loads(json.dumps(small.dump()))
    assert len(json.dumps(data)) < 20_000  # the changes, never the whole shop
    again = GeneratedShop.load(data)
    for kind in KINDS:
        assert again.count(kind) == small.count(kind)
        assert _all(again, kind) == _all(small, kind)
        for order_by in ORDERINGS:
            assert again.scan(kind, order_by=order_by, reverse=True, limit=100) == small.scan(
                kind, order_by=order_by, reverse=True, limit=100)
    assert again.orders_of(4) == small.orders_of(4)
    with pytest.raises(ValueError):
        GeneratedShop.load({"format": 99})


# -- the same people in two shops ---------------------------------------------------------------
def _emails(shop: GeneratedShop) -> set[str]:
    return {c.email.strip().lower() for c in _all(shop, "customers")}


def test_two_shops_share_people() -> None:
    def pair(share: float) -> tuple[set[str], set[str]]:
        a = GeneratedShop(ShopSpec(name="a", seed=1, customers=1_000, orders_per_customer=0.1,
                                   population_seed=9, shared_share=share))
        b = GeneratedShop(ShopSpec(name="b", seed=2, customers=1_000, orders_per_customer=0.1,
                                   population_seed=9, shared_share=share))
        return _emails(a), _emails(b)

    a, b = pair(0.1)
    assert 0.07 <= len(a & b) / len(a) <= 0.13
    a, b = pair(0.0)
    assert not a & b


# -- a large shop: memory and paging cost -------------------------------------------------------
_BIG_SHOP = """
import resource, time
from connector.sandbox.datagen import GeneratedShop, ShopSpec

before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
shop = GeneratedShop(ShopSpec(name="big", seed=1, customers=200_000, orders_per_customer=0.25,
                              carts_per_customer=0))
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before


def pages(after):
    start = time.perf_counter()
    for _ in range(20):
        page = shop.scan("customers", order_by="updated_at", after=after, limit=10)
        after = (page[-1].updated_at, page[-1].key)
    return time.perf_counter() - start


late = shop.scan("customers", order_by="updated_at", reverse=True, limit=201)[-1]
print(grown, shop.count("customers"), shop.count("orders"), pages(None), pages((late.updated_at, late.key)))
"""


@pytest.fixture(scope="module")
def big_shop() -> dict[str, float]:
    """Figures from a 200,000-customer shop built in a fresh process (so its peak RSS is its own)."""
    result = subprocess.run([sys.executable, "-c", _BIG_SHOP], capture_output=True, text=True, check=True,
                            timeout=300)
    names = ("grown_kib", "customers", "orders", "first_pages_s", "last_pages_s")
    return dict(zip(names, map(float, result.stdout.split()), strict=True))


def test_construction_is_memory_lean(big_shop: dict[str, float]) -> None:
    # 200,000 customers, ~50,000 orders, no carts (about a second to build). The indexes take ~20
    # bytes a customer and ~21 an order; the sorts briefly hold a list of floats (32 bytes an item).
    # Measured peak-RSS growth: ~10 MB (the 1M/5M shop of bench/datagen.py peaks at ~380 MB in all).
    # As objects, the customers alone would take ~140 MB (~700 bytes each), so 40 MB proves nothing
    # is materialised, with room for allocator noise. Peak RSS of a fresh process rather than
    # tracemalloc: tracing every allocation slows the per-record loops 5-10x (too slow for the suite).
    assert big_shop["customers"] == 200_000 and big_shop["orders"] > 45_000
    assert big_shop["grown_kib"] < 40 * 1024, big_shop["grown_kib"]


def test_paging_by_updated_at_does_not_slow_down_deep_in_the_index(big_shop: dict[str, float]) -> None:
    # 20 pages that start 199,800 records deep cost what 20 pages at the start cost: positions are
    # found by bisection, not by walking (which would make paging through everything quadratic).
    assert big_shop["last_pages_s"] < 3 * big_shop["first_pages_s"] + 0.01
