"""Store migrations: from empty to head, idempotent, in step with schema.py, refusing the future."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from connector.errors import StateError
from connector.models import Customer
from connector.store import Store, create_store_engine, current_revision, ensure_current, head_revision, metadata
from connector.store import upgrade as upgrade_store
from connector.store.migrate import alembic_config

pytest_plugins = ["conftest_store"]  # store_url: SQLite, and PostgreSQL when configured

# Written out by hand from the design, not read from schema.py.
EXPECTED_INDEXES = {
    "customers": {"ix_customers_email"},
    "orders": {"ix_orders_customer_id_created_at", "ix_orders_updated_at", "ix_orders_customer_ref",
               "ix_orders_email"},
    "line_items": {"ix_line_items_customer_id_category_quantity", "ix_line_items_customer_id_product_id"},
    "carts": {"ix_carts_email", "ix_carts_customer_ref"},
    "cursors": set(),
    "pushed_state": {"ix_pushed_state_sink_email"},
    "sync_runs": {"ix_sync_runs_pipeline_started_at"},
    "quarantine": set(),
    "persons": set(),
    "person_customers": {"ix_person_customers_person"},
    "person_guests": {"ix_person_guests_person"},
    "profile_metrics": {"ix_profile_metrics_pipeline_orders_count", "ix_profile_metrics_pipeline_total_spent",
                        "ix_profile_metrics_pipeline_last_order_at"},
    "profile_money": set(),
    "profile_values": set(),
    "profile_attributes": set(),
    "segment_members": {"ix_segment_members_pipeline_person"},
    "segment_history": {"ix_segment_history_pipeline_person"},
    "esp_contacts": set(),
}
EXPECTED_UNIQUES = {
    "customers": {("source_id",)},
    "orders": {("source_id",)},
    "carts": {("source_id",)},
    "quarantine": {("entity", "record_id", "field")},
    "persons": {("pipeline", "person_id"), ("pipeline", "email")},
}
HEAD = "0003"


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    created = create_store_engine(store_url)
    yield created
    created.dispose()


def test_upgrade_from_empty_creates_every_table_and_index(engine: Engine) -> None:
    assert current_revision(engine) is None
    upgrade_store(engine)
    assert current_revision(engine) == head_revision() == HEAD

    inspector = inspect(engine)
    assert set(inspector.get_table_names()) == {*EXPECTED_INDEXES, "alembic_version"}
    for table, indexes in EXPECTED_INDEXES.items():
        # PostgreSQL also lists the index behind each unique constraint; those are checked below.
        names = {ix["name"] for ix in inspector.get_indexes(table) if not ix.get("duplicates_constraint")}
        assert names == indexes, table
    for table, uniques in EXPECTED_UNIQUES.items():
        assert {tuple(uq["column_names"]) for uq in inspector.get_unique_constraints(table)} == uniques, table
    assert inspector.get_pk_constraint("line_items")["constrained_columns"] == ["order_id", "position"]
    assert inspector.get_pk_constraint("pushed_state")["constrained_columns"] == ["sink", "person_id"]
    assert inspector.get_pk_constraint("person_customers")["constrained_columns"] == ["pipeline", "customer_id"]
    assert inspector.get_pk_constraint("profile_values")["constrained_columns"] == ["name", "person", "value"]
    foreign = {(fk["constrained_columns"][0], fk["referred_table"], fk["options"].get("ondelete"))
               for fk in inspector.get_foreign_keys("line_items")}
    assert foreign == {("order_id", "orders", "CASCADE"), ("customer_id", "customers", "SET NULL")}


def test_upgrade_again_is_a_no_op_that_keeps_data(store_url: str) -> None:
    customer = Customer(id="shopify:acme:1", email="a@example.com",
                        created_at=datetime(2026, 1, 1, tzinfo=UTC), updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    with Store.open(store_url) as store:
        store.upsert_customers([customer])
    with Store.open(store_url) as store:  # migrates again: nothing to do
        upgrade_store(store.engine)
        assert current_revision(store.engine) == HEAD
        assert store.count("customers") == 1
        assert store.get_customer(customer.id) == customer


def test_migrated_database_matches_schema_metadata(engine: Engine) -> None:
    upgrade_store(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        assert compare_metadata(context, metadata) == []


def test_downgrade_to_base_and_back(engine: Engine) -> None:
    upgrade_store(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert current_revision(engine) is None
    upgrade_store(engine)
    assert current_revision(engine) == HEAD


def test_a_newer_store_is_refused(store_url: str) -> None:
    with Store.open(store_url) as store:
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0042_future'"))
        with pytest.raises(StateError, match=r"at revision 0042_future, newer than this connector \(head 0003\)"):
            upgrade_store(store.engine)
    for migrate in (True, False):
        with pytest.raises(StateError, match="upgrade connector"):
            Store.open(store_url, migrate=migrate)


def test_opening_without_migrating_needs_a_current_store(store_url: str) -> None:
    with pytest.raises(StateError, match="not initialised"):
        Store.open(store_url, migrate=False)
    with Store.open(store_url):
        pass
    with Store.open(store_url, migrate=False) as store:
        ensure_current(store.engine)
        assert store.count("orders") == 0
