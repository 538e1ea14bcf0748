"""The state store, on SQLite always and on PostgreSQL when CONNECTOR_TEST_POSTGRES_URL is set.

Expected values are worked out by hand in each test (money in ten-thousandths, times from the
manual clock), never read back from the code under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import StatementError

from connector.clock import ManualClock
from connector.errors import StateError
from connector.models import (
    Address,
    Cart,
    CartItem,
    ConsentState,
    Customer,
    FinancialStatus,
    LineItem,
    MarketingConsent,
    Order,
    OrderStatus,
)
from connector.protocols import ContactState, QuarantineEntry
from connector.store import RunKind, RunStatus, Store, create_store_engine, default_sqlite_url, redacted_url, schema
from connector.store.coltypes import MoneyType, UtcDateTime, dumps_json, from_money_units, loads_json

pytest_plugins = ["conftest_store"]  # store_url: SQLite, and PostgreSQL when configured

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # the store clock's time when a test starts
T0 = datetime(2026, 1, 10, 9, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    """Overrides the suite's clock: the store tests count from :data:`NOW`."""
    return ManualClock(NOW)


@pytest.fixture
def store(store_url: str, clock: ManualClock) -> Iterator[Store]:
    """An open, migrated store on the manual clock."""
    with Store.open(store_url, clock=clock) as opened:
        yield opened


@pytest.fixture
def sqlite_store(tmp_path: Path, clock: ManualClock) -> Iterator[Store]:
    """A store on SQLite only, for what is SQLite's own: locking and query plans."""
    with Store.open(default_sqlite_url(tmp_path), clock=clock) as opened:
        yield opened


def make_customer(n: int, **changes: object) -> Customer:
    data: dict[str, object] = {
        "id": f"shopify:acme:{n}", "email": f"person{n}@example.com", "created_at": T0, "updated_at": T0,
    }
    return Customer.model_validate({**data, **changes})


def make_order(n: int, customer: int | None, items: int = 3, **changes: object) -> Order:
    lines = tuple(
        LineItem(title=f"item {k}", product_id=f"p{k}", category=f"cat{k % 2}", quantity=k + 1,
                 unit_price=Decimal("2.50"))
        for k in range(items)
    )
    data: dict[str, object] = {
        "id": f"shopify:acme:o{n}",
        "customer_id": None if customer is None else f"shopify:acme:{customer}",
        "email": f"buyer{n}@example.com",
        "status": OrderStatus.COMPLETED,
        "currency": "USD",
        "total": Decimal("10"),
        "created_at": T0,
        "updated_at": T0,
        "line_items": lines,
    }
    return Order.model_validate({**data, **changes})


def scalar(store: Store, sql: str, **params: object) -> object:
    with store.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


# --------------------------------------------------------------------------- engine


def test_sqlite_pragmas_are_set_on_every_connection(tmp_path: Path) -> None:
    engine = create_store_engine(default_sqlite_url(tmp_path / "nested" / "dir"))
    try:
        for _ in range(2):  # a second pooled connection gets them too
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 1  # NORMAL
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 30000
        assert (tmp_path / "nested" / "dir" / "connector.db").is_file()
    finally:
        engine.dispose()


def test_default_sqlite_url(tmp_path: Path) -> None:
    assert default_sqlite_url(tmp_path) == f"sqlite:///{tmp_path}/connector.db"


@pytest.mark.parametrize("url", ["postgres://app:hunter22@db.internal:5432/shop",
                                 "postgresql://app:hunter22@db.internal:5432/shop"])
def test_postgres_urls_use_psycopg_and_repr_hides_the_password(url: str) -> None:
    engine = create_store_engine(url)  # no connection is made
    try:
        assert engine.url.drivername == "postgresql+psycopg"
        shown = repr(Store(engine))
        assert "hunter22" not in shown
        assert shown == "Store('postgresql+psycopg://app:***@db.internal:5432/shop')"
    finally:
        engine.dispose()


def test_redacted_url_masks_password_and_secret_query_parameters() -> None:
    url = "postgresql+psycopg://app:hunter22@db.internal/shop?sslmode=require&password=s3cret"
    assert redacted_url(url) == "postgresql+psycopg://app:***@db.internal/shop?password=***&sslmode=require"


def test_sqlite_readers_are_not_blocked_by_an_open_write(sqlite_store: Store) -> None:
    store = sqlite_store
    with store.transaction() as tx:
        tx.upsert_customers([make_customer(1)])
        assert store.count("customers") == 0  # another connection: reads the last commit at once
    assert store.count("customers") == 1


# --------------------------------------------------------------------------- column types


def test_money_type_refuses_five_decimal_places_and_reads_back_exact() -> None:
    money = MoneyType()
    dialect = sqlite.dialect()
    assert money.process_bind_param(Decimal("19.99"), dialect) == 199_900
    assert money.process_bind_param(Decimal("0.0001"), dialect) == 1
    assert money.process_bind_param(Decimal("1500"), dialect) == 15_000_000
    assert money.process_bind_param(Decimal("1.234"), dialect) == 12_340
    with pytest.raises(ValueError, match="more than 4 decimal places"):
        money.process_bind_param(Decimal("0.00001"), dialect)
    with pytest.raises(ValueError, match="too large"):
        money.process_bind_param(Decimal("922337203685477.5808"), dialect)  # (2**63) / 10,000
    assert money.process_bind_param(Decimal("922337203685477.5807"), dialect) == 2**63 - 1
    with pytest.raises(ValueError, match="Decimal or int"):
        money.process_bind_param(19.99, dialect)  # type: ignore[arg-type]
    result = money.process_result_value(12_340, dialect)
    assert result == Decimal("1.234") and str(result) == "1.234"
    assert str(money.process_result_value(15_000_000, dialect)) == "1500"
    assert str(money.process_result_value(199_900, dialect)) == "19.99"


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=4))
def test_money_units_round_trip(amount: Decimal) -> None:
    assert from_money_units(MoneyType().process_bind_param(amount, sqlite.dialect()) or 0) == amount


def test_utc_datetime_refuses_naive_and_converts_to_utc() -> None:
    column = UtcDateTime()
    paris_summer = timezone(timedelta(hours=2))
    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(datetime(2026, 3, 1, 12, 0), sqlite.dialect())
    # SQLite keeps the UTC wall time as fixed-width text, so text order is time order.
    assert column.process_bind_param(datetime(2026, 3, 1, 12, 0, tzinfo=paris_summer), sqlite.dialect()) == (
        "2026-03-01 10:00:00.000000"
    )
    assert column.process_result_value("2026-03-01 10:00:00.000000", sqlite.dialect()) == (
        datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    )
    assert column.process_bind_param(datetime(2026, 3, 1, 12, 0, tzinfo=paris_summer), postgresql.dialect()) == (
        datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    )


def test_utc_datetime_in_the_database(store: Store) -> None:
    cursors = schema.cursors
    paris, sao_paulo = timezone(timedelta(hours=2)), timezone(timedelta(hours=-3))
    with store.engine.begin() as conn:
        conn.execute(insert(cursors), [
            {"scope": "s", "stream": "a", "value": "x", "updated_at": datetime(2026, 3, 1, 12, 0, tzinfo=paris)},
            {"scope": "s", "stream": "b", "value": "y", "updated_at": datetime(2026, 3, 1, 9, 0, tzinfo=sao_paulo)},
        ])
        read = dict(conn.execute(select(cursors.c.stream, cursors.c.updated_at)).all())
        assert read == {"a": datetime(2026, 3, 1, 10, 0, tzinfo=UTC), "b": datetime(2026, 3, 1, 12, 0, tzinfo=UTC)}
        assert all(value.utcoffset() == timedelta(0) for value in read.values())
        # Compared and ordered as instants, whatever zone the bound value is in.
        later = select(cursors.c.stream).where(cursors.c.updated_at > datetime(2026, 3, 1, 12, 30, tzinfo=paris))
        assert conn.execute(later).scalars().all() == ["b"]
        newest = select(cursors.c.stream).order_by(cursors.c.updated_at.desc()).limit(1)
        assert conn.execute(newest).scalar_one() == "b"
        with pytest.raises(StatementError) as caught:
            conn.execute(insert(cursors).values(scope="s", stream="c", value="z",
                                                updated_at=datetime(2026, 3, 1, 12, 0)))
        assert isinstance(caught.value.orig, ValueError)


def test_json_text_is_deterministic_and_keeps_types() -> None:
    value = {"b": 1, "a": [Decimal("1.50"), date(2026, 1, 2)], "é": True}
    assert dumps_json(value) == '{"a":[{"$decimal":"1.50"},{"$date":"2026-01-02"}],"b":1,"é":true}'
    assert loads_json(dumps_json(value)) == value


# --------------------------------------------------------------------------- round trips


def test_customer_round_trip(store: Store) -> None:
    customer = Customer(
        id="shopify:acme:1001",
        email=" Jane.Doe@Example.com ",
        first_name="Jane",
        last_name="Doe",
        phone="06 12 34 56 78",
        address=Address(country="FR", region="IDF", city="Paris", postal_code="75011"),
        birthday=date(1990, 5, 17),
        company="Acme SARL",
        locale="fr-FR",
        tags=("vip", "newsletter"),
        created_at=datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        updated_at=datetime(2026, 2, 1, 8, 0, tzinfo=timezone(timedelta(hours=2))),
        consent=MarketingConsent(state=ConsentState.SUBSCRIBED, updated_at=datetime(2025, 6, 1, tzinfo=UTC),
                                 source="shopify:emailMarketingConsent", opt_in_level="confirmed_opt_in"),
        is_staff=True,
        attributes={"loyalty.points": 120, "loyalty.tier": "gold", "ratio": 0.25, "opted_in": True,
                    "spend": Decimal("12.50"), "joined": date(2020, 1, 1),
                    "seen": datetime(2026, 1, 1, 7, 0, tzinfo=UTC)},
    )
    assert store.upsert_customers([customer]) == 1

    read = store.get_customer("shopify:acme:1001")
    assert read == customer
    assert read is not None
    assert read.email == "jane.doe@example.com" and read.phone == "+33612345678"
    assert read.updated_at == datetime(2026, 2, 1, 6, 0, tzinfo=UTC)
    attributes = read.attributes
    assert type(attributes["spend"]) is Decimal and str(attributes["spend"]) == "12.50"
    assert type(attributes["opted_in"]) is bool and type(attributes["loyalty.points"]) is int
    assert type(attributes["ratio"]) is float
    assert type(attributes["joined"]) is date and type(attributes["seen"]) is datetime
    assert store.get_customer("shopify:acme:404") is None


def test_order_round_trip_with_exact_money(store: Store) -> None:
    store.upsert_customers([make_customer(1001)])
    order = Order(
        id="shopify:acme:5001",
        customer_id="shopify:acme:1001",
        email="person1001@example.com",
        number="#5001",
        status=OrderStatus.PROCESSING,
        financial_status=FinancialStatus.PARTIALLY_REFUNDED,
        currency="USD",
        # 2 x 19.99 + 0.0001 + 7.50 = 47.4801; -5.00 discount +4.99 shipping +0.0001 tax = 47.4702
        subtotal=Decimal("47.4801"),
        discount_total=Decimal("5.00"),
        shipping_total=Decimal("4.99"),
        tax_total=Decimal("0.0001"),
        total=Decimal("47.4702"),
        refunded_total=Decimal("7.50"),
        discount_codes=("SPRING5", "VIP"),
        source_channel="web",
        created_at=T0,
        updated_at=T0 + timedelta(hours=1),
        processed_at=T0 + timedelta(minutes=5),
        billing_address=Address(country="US", region="CA", city="Oakland", postal_code="94607"),
        line_items=(
            LineItem(line_id="l1", product_id="p1", variant_id="v1", sku="MUG-1", title="Mug", product_type="mug",
                     category="kitchen", vendor="Acme", quantity=2, unit_price=Decimal("19.99"),
                     total=Decimal("34.98")),
            LineItem(line_id="l2", title="Sticker", quantity=1, unit_price=Decimal("0.0001")),
            LineItem(line_id="l3", title="Tea", category="food", quantity=1, unit_price=Decimal("7.50"),
                     total=Decimal("7.50"), refunded_quantity=1),
        ),
        attributes={"note": "gift", "gift_wrap": True},
    )
    yen = make_order(6001, None, items=1, currency="JPY", total=Decimal("1500"), subtotal=Decimal("1500"))
    dinar = make_order(6002, 1001, items=0, currency="KWD", total=Decimal("1.234"))
    assert store.upsert_orders([order, yen, dinar]) == 3

    assert store.get_order("shopify:acme:5001") == order
    assert store.get_order(yen.id) == yen
    assert store.get_order(dinar.id) == dinar
    read_yen, read_dinar = store.get_order(yen.id), store.get_order(dinar.id)
    assert read_yen is not None and str(read_yen.total) == "1500"
    assert read_dinar is not None and str(read_dinar.total) == "1.234"
    # Stored as integers of ten-thousandths, summable in SQL.
    assert scalar(store, "SELECT total FROM orders WHERE source_id = :id", id=order.id) == 474_702
    assert scalar(store, "SELECT refunded_total FROM orders WHERE source_id = :id", id=order.id) == 75_000
    assert scalar(store, "SELECT total FROM orders WHERE source_id = :id", id=yen.id) == 15_000_000
    assert scalar(store, "SELECT total FROM orders WHERE source_id = :id", id=dinar.id) == 12_340
    # 199900 + 1 + 75000 for the first order, plus 25000 for the yen order's one line
    assert scalar(store, "SELECT SUM(unit_price) FROM line_items") == 299_901
    assert store.get_order("shopify:acme:404") is None


def test_cart_round_trip(store: Store) -> None:
    cart = Cart(
        id="shopify:acme:c1",
        customer_id="shopify:acme:1001",
        email="jane@example.com",
        items=(
            CartItem(title="Mug", product_id="p9", quantity=2, unit_price=Decimal("12.50"), total=Decimal("25.00")),
            CartItem(title="Tea", quantity=1, unit_price=Decimal("4.2"), category="food"),
        ),
        value=Decimal("29.20"),
        currency="EUR",
        created_at=T0,
        updated_at=T0 + timedelta(minutes=30),
        recovery_url="https://acme.example/recover/abc",
    )
    assert store.upsert_carts([cart]) == 1
    assert store.get_cart(cart.id) == cart
    completed = cart.model_copy(update={"completed_at": T0 + timedelta(days=1)})
    store.upsert_carts([completed])
    assert store.get_cart(cart.id) == completed
    assert store.count("carts") == 1
    assert scalar(store, "SELECT value FROM carts") == 292_000


def test_count_refuses_unknown_tables(store: Store) -> None:
    with pytest.raises(ValueError, match="unknown store table"):
        store.count("customers; DROP TABLE customers")


# --------------------------------------------------------------------------- bulk upserts


def test_bulk_upsert_is_idempotent_and_replaces_line_items(store: Store, clock: ManualClock) -> None:
    customers = [make_customer(n) for n in range(1000)]
    orders = [make_order(n, n % 1000) for n in range(2000)]
    for _ in range(2):
        assert store.upsert_customers(customers) == 1000
        assert store.upsert_orders(orders) == 2000
        assert (store.count("customers"), store.count("orders"), store.count("line_items")) == (1000, 2000, 6000)
        assert scalar(store, "SELECT COUNT(*) FROM line_items WHERE customer_id IS NOT NULL") == 6000

    clock.advance(60)
    renamed = make_customer(7, first_name="Renamed")
    assert store.upsert_customers([renamed]) == 1
    assert store.count("customers") == 1000
    assert store.get_customer(renamed.id) == renamed
    with store.engine.connect() as conn:
        stored = dict(conn.execute(select(schema.customers.c.source_id, schema.customers.c.stored_at)
                                   .where(schema.customers.c.source_id.in_([renamed.id, "shopify:acme:8"]))).all())
    assert stored == {renamed.id: NOW + timedelta(seconds=60), "shopify:acme:8": NOW}

    shrunk = make_order(11, 11, items=1)
    assert store.upsert_orders([shrunk]) == 1
    assert store.count("orders") == 2000 and store.count("line_items") == 5998
    assert store.get_order(shrunk.id) == shrunk
    # Orders 11 and 1011 belong to customer 11: 1 + 3 lines, the quantities 1 and 1+2+3.
    assert scalar(store, "SELECT COUNT(*) FROM line_items li JOIN customers c ON c.id = li.customer_id "
                         "WHERE c.source_id = 'shopify:acme:11'") == 4
    assert scalar(store, "SELECT SUM(quantity) FROM line_items li JOIN customers c ON c.id = li.customer_id "
                         "WHERE c.source_id = 'shopify:acme:11'") == 7


def test_duplicates_within_one_batch_keep_the_last(store: Store) -> None:
    first, last = make_order(1, None, items=3), make_order(1, None, items=2, number="#2")
    assert store.upsert_orders([first, last]) == 1
    assert store.get_order(first.id) == last
    assert store.count("line_items") == 2


def test_an_older_version_never_replaces_a_newer_one(store: Store) -> None:
    later = T0 + timedelta(hours=2)
    newer = make_customer(1, first_name="New", updated_at=later)
    older = make_customer(1, first_name="Old", updated_at=T0)
    store.upsert_customers([newer])
    store.upsert_customers([older])  # a late page (another slice, a replay) with an older version
    assert store.get_customer(newer.id) == newer
    same_time = make_customer(1, first_name="Same time, later page", updated_at=later)
    store.upsert_customers([same_time])  # equal timestamps: the later write wins
    assert store.get_customer(newer.id) == same_time
    # Within one batch the newest wins whatever the order it came in.
    store.upsert_orders([make_order(7, None, number="#new", updated_at=later), make_order(7, None, number="#old")])
    stored = store.get_order("shopify:acme:o7")
    assert stored is not None and stored.number == "#new"


def test_orders_stored_before_their_customer_are_linked_later(store: Store) -> None:
    store.upsert_orders([make_order(1, 42, items=2), make_order(2, None, items=1)])
    store.upsert_carts([Cart(id="shopify:acme:c42", customer_id="shopify:acme:42", email="person42@example.com",
                             value=Decimal("5"), currency="USD", created_at=T0, updated_at=T0)])
    assert scalar(store, "SELECT COUNT(*) FROM orders WHERE customer_id IS NOT NULL") == 0
    assert scalar(store, "SELECT COUNT(*) FROM line_items WHERE customer_id IS NOT NULL") == 0

    store.upsert_customers([make_customer(41), make_customer(42)])
    customer_id = scalar(store, "SELECT id FROM customers WHERE source_id = 'shopify:acme:42'")
    assert scalar(store, "SELECT customer_id FROM orders WHERE source_id = 'shopify:acme:o1'") == customer_id
    assert scalar(store, "SELECT COUNT(*) FROM line_items WHERE customer_id = :c", c=customer_id) == 2
    assert scalar(store, "SELECT customer_id FROM carts WHERE source_id = 'shopify:acme:c42'") == customer_id
    # The guest order and its line keep no customer.
    assert scalar(store, "SELECT customer_id FROM orders WHERE source_id = 'shopify:acme:o2'") is None
    assert scalar(store, "SELECT COUNT(*) FROM line_items WHERE customer_id IS NULL") == 1

    store.upsert_orders([make_order(3, 42, items=3)])  # the customer is known now: linked at once
    assert scalar(store, "SELECT COUNT(*) FROM line_items WHERE customer_id = :c", c=customer_id) == 5


def test_a_bad_amount_fails_the_whole_call(store: Store) -> None:
    # The model already refuses such an amount; the store must refuse it too if one slips past.
    sliver = LineItem.model_construct(
        **{**LineItem(title="x", quantity=1, unit_price=Decimal(1)).__dict__, "unit_price": Decimal("1.00001")}
    )
    bad = make_order(2, None, items=1, line_items=(sliver,))
    with pytest.raises(ValueError, match="more than 4 decimal places"):
        store.upsert_orders([make_order(1, None), bad])
    assert store.count("orders") == 0 and store.count("line_items") == 0


def test_favourite_category_query_uses_the_covering_index(sqlite_store: Store) -> None:
    sql = ("EXPLAIN QUERY PLAN SELECT customer_id, category, SUM(quantity) FROM line_items "
           "WHERE customer_id = ? GROUP BY category")
    with sqlite_store.engine.connect() as conn:
        plan = " | ".join(row[3] for row in conn.exec_driver_sql(sql, (1,)))
    assert "USING COVERING INDEX ix_line_items_customer_id_category_quantity (customer_id=?)" in plan


def test_writes_never_scan_a_whole_table(sqlite_store: Store) -> None:
    """Every statement of the write path reads through a selective index, however many guest orders."""
    store = sqlite_store
    store.upsert_orders([make_order(n, None) for n in range(50)])  # guest orders: customer_id NULL
    statements: list[tuple[str, object]] = []

    def capture(conn: object, cursor: object, statement: str, params: object, context: object,
                executemany: bool) -> None:
        if not executemany:
            statements.append((statement, params))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        store.upsert_customers([make_customer(1), make_customer(2)])
        store.upsert_orders([make_order(100, 1), make_order(101, None)])
        store.upsert_carts([Cart(id="shopify:acme:c1", customer_id="shopify:acme:2", email="p2@example.com",
                                 value=Decimal("1"), currency="USD", created_at=T0, updated_at=T0)])
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    searched = [s for s, _ in statements if s.startswith(("SELECT", "UPDATE", "DELETE"))]
    assert len(searched) >= 6  # 3 link updates, 2 id lookups and the line-item delete at least
    with store.engine.connect() as conn:
        for statement, params in statements:
            if statement.startswith(("SELECT", "UPDATE", "DELETE")):
                plan = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)]
                assert not [step for step in plan if step.startswith("SCAN")], (statement, plan)
                # Looking rows up by "customer_id IS NULL" would visit every guest order and line.
                assert not [step for step in plan if "(customer_id=?)" in step], (statement, plan)


# --------------------------------------------------------------------------- cursors and transactions


def test_cursor_set_and_get(store: Store) -> None:
    assert store.get_cursor("acme", "orders") is None
    store.set_cursor("acme", "orders", "2026-01-01T00:00:00Z")
    store.set_cursor("acme", "orders", "2026-01-02T00:00:00Z")
    store.set_cursor("other", "orders", "page-9")
    assert store.get_cursor("acme", "orders") == "2026-01-02T00:00:00Z"
    assert store.get_cursor("other", "orders") == "page-9"
    assert store.get_cursor("acme", "customers") is None
    assert store.count("cursors") == 2


def test_transaction_commits_page_and_cursor_together(store: Store) -> None:
    entry = QuarantineEntry(entity="order", record_id="shopify:acme:o99", field=None, reason="unknown currency")
    with store.transaction() as tx:
        assert tx.upsert_orders([make_order(1, None)]) == 1
        tx.add_quarantine([entry])
        tx.set_cursor("acme", "orders", "c1")
        assert tx.get_cursor("acme", "orders") == "c1"  # visible inside the transaction
    assert store.get_cursor("acme", "orders") == "c1"
    assert (store.count("orders"), store.count("line_items"), store.count_quarantine()) == (1, 3, 1)
    with pytest.raises(StateError, match="has ended"):
        tx.get_cursor("acme", "orders")


def test_transaction_rollback_leaves_neither_rows_nor_cursor(store: Store) -> None:
    store.set_cursor("acme", "orders", "c1")
    with pytest.raises(RuntimeError, match="crash"), store.transaction() as tx:
        tx.upsert_customers([make_customer(1)])
        tx.upsert_orders([make_order(1, 1)])
        tx.set_cursor("acme", "orders", "c2")
        raise RuntimeError("crash before commit")
    assert store.get_cursor("acme", "orders") == "c1"
    assert (store.count("customers"), store.count("orders"), store.count("line_items")) == (0, 0, 0)


# --------------------------------------------------------------------------- pushed state


def test_pushed_state_round_trip_and_order(store: Store, clock: ManualClock) -> None:
    rich = ContactState(email="a@example.com", fields={"LTV": Decimal("120.50"), "TIER": "gold", "ORDERS": 3,
                                                       "LAST": date(2026, 1, 2)},
                        tags=frozenset({"vip", "buyer"}), lists=frozenset({"12"}), consent=ConsentState.SUBSCRIBED)
    plain = ContactState(email="b@example.com", tags=frozenset({"x"}))
    third = ContactState(email="c@example.com")
    assert store.record_pushed("brevo:main", [("p-b", rich, "ac-1"), ("P-a", plain, None), ("p-a", third, "7")]) == 3
    store.record_pushed("activecampaign:main", [("p-0", plain, None)])

    got = store.get_pushed("brevo:main", "p-b")
    assert got is not None
    assert (got.person_id, got.email, got.contact_id, got.pushed_at) == ("p-b", "a@example.com", "ac-1", NOW)
    assert got.state_hash == rich.digest() and got.state.digest() == rich.digest()
    assert got.state.tags == frozenset({"vip", "buyer"}) and got.state.fields["TIER"] == "gold"
    assert store.get_pushed("brevo:main", "nobody") is None
    # The state column holds the canonical JSON verbatim.
    stored = scalar(store, "SELECT state FROM pushed_state WHERE person_id = 'P-a'")
    assert stored == '{"consent":"not_subscribed","email":"b@example.com","fields":{},"lists":[],"tags":["x"]}'

    # Code-point order ('P' < 'p'), whatever the database's collation.
    assert [p.person_id for p in store.iter_pushed("brevo:main")] == ["P-a", "p-a", "p-b"]
    with closing(store.iter_pushed("brevo:main")) as stream:
        assert next(stream).person_id == "P-a"

    clock.advance(3600)
    store.record_pushed("brevo:main", [("p-b", plain, "ac-1")])
    again = store.get_pushed("brevo:main", "p-b")
    assert again is not None and again.state_hash == plain.digest()
    assert again.pushed_at == NOW + timedelta(hours=1)
    assert store.count("pushed_state") == 4


# --------------------------------------------------------------------------- runs


def test_runs_start_finish_and_list(store: Store, clock: ManualClock) -> None:
    first = store.start_run("acme-sync", "sync")
    clock.advance(10)
    store.finish_run(first, "succeeded", {"orders": 5, "customers": 2}, {"shopify": 3})
    clock.advance(10)
    second = store.start_run("acme-sync", RunKind.BACKFILL)
    clock.advance(10)
    other = store.start_run("brevo-push", RunKind.FULL_REFRESH)
    store.finish_run(other, RunStatus.FAILED, {}, {"brevo": 1}, error="AuthError: 401")

    runs = store.recent_runs("acme-sync")
    assert [r.id for r in runs] == [second, first]
    done = runs[1]
    assert (done.kind, done.status, done.started_at, done.finished_at) == (
        RunKind.SYNC, RunStatus.SUCCEEDED, NOW, NOW + timedelta(seconds=10))
    assert dict(done.counts) == {"orders": 5, "customers": 2} and dict(done.requests) == {"shopify": 3}
    assert (runs[0].status, runs[0].finished_at, runs[0].error) == (RunStatus.RUNNING, None, None)
    assert [r.id for r in store.recent_runs()] == [other, second, first]
    assert [r.id for r in store.recent_runs(limit=1)] == [other]
    assert store.recent_runs(limit=1)[0].error == "AuthError: 401"
    with pytest.raises(StateError, match="no sync run with id 999"):
        store.finish_run(999, "succeeded", {}, {})
    with pytest.raises(ValueError):
        store.start_run("acme-sync", "nightly")


# --------------------------------------------------------------------------- quarantine


def test_quarantine_dedupes_counts_resolves_and_reopens(store: Store, clock: ManualClock) -> None:
    run = store.start_run("acme-sync", "sync")
    bad_email = QuarantineEntry(entity="customer", record_id="shopify:acme:9", field="email", reason="not valid")
    whole = QuarantineEntry(entity="customer", record_id="shopify:acme:9", field=None, reason="rejected",
                            payload='{"id": 9}')
    phone = QuarantineEntry.model_validate({"entity": "customer", "record_id": "shopify:acme:8", "field": "phone",
                                            "reason": "not a phone number", "action": "field_dropped"})
    assert store.add_quarantine([bad_email, whole, phone, phone], run_id=run) == 3  # phone seen twice
    clock.advance(60)
    store.add_quarantine([bad_email.model_copy(update={"reason": "still not valid"}), whole])

    assert store.count("quarantine") == 3
    by_key = {(q.record_id, q.field): q for q in store.list_quarantine()}
    email_row = by_key[("shopify:acme:9", "email")]
    assert (email_row.occurrences, email_row.first_seen, email_row.last_seen, email_row.reason) == (
        2, NOW, NOW + timedelta(seconds=60), "still not valid")
    assert email_row.run_id is None  # the latest sighting was outside a run
    whole_row = by_key[("shopify:acme:9", None)]
    assert (whole_row.occurrences, whole_row.payload, whole_row.action) == (2, '{"id": 9}', "rejected")
    phone_row = by_key[("shopify:acme:8", "phone")]
    assert (phone_row.run_id, phone_row.occurrences, phone_row.action) == (run, 2, "field_dropped")

    assert store.resolve_quarantine("customer", ["shopify:acme:9"]) == 2
    assert store.count_quarantine() == 1 and store.count_quarantine(unresolved_only=False) == 3
    assert [q.record_id for q in store.list_quarantine()] == ["shopify:acme:8"]
    resolved = [q for q in store.list_quarantine(unresolved_only=False) if q.resolved_at is not None]
    assert {q.resolved_at for q in resolved} == {NOW + timedelta(seconds=60)}

    store.add_quarantine([bad_email])  # failed again: reopened
    assert store.count_quarantine() == 2
    reopened = next(q for q in store.list_quarantine() if q.field == "email")
    assert (reopened.occurrences, reopened.resolved_at) == (3, None)
    assert store.list_quarantine(limit=1)[0].field == "email"  # most recently seen first
