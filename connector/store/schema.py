"""The store's tables, as SQLAlchemy Core metadata.

This is the *target* the migrations must produce: ``tests/test_migrations.py`` compares the
migrated database with it, so a change here without a new revision in ``migrations/versions``
fails the tests.

Design (see the performance notes): integer surrogate keys so joins and per-customer staging
tables use integer keys; source records keep their namespaced id in ``source_id``; line items
carry the order's ``customer_id`` so per-customer aggregates never join line items to orders,
with covering indexes for the favourite-category and product queries.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

from connector.store.coltypes import JsonText, MoneyType, UtcDateTime

__all__ = [
    "JsonText",
    "MoneyType",
    "UtcDateTime",
    "carts",
    "cursors",
    "customers",
    "line_items",
    "metadata",
    "orders",
    "person_customers",
    "person_guests",
    "persons",
    "profile_attributes",
    "profile_metrics",
    "profile_money",
    "profile_values",
    "pushed_state",
    "esp_contacts",
    "segment_history",
    "segment_members",
    "quarantine",
    "sync_runs",
]

# Deterministic constraint names on every backend, so later migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _text(name: str, *, nullable: bool = True) -> Column[str]:
    return Column(name, Text, nullable=nullable)


def _money(name: str, *, nullable: bool = False) -> Column[Decimal]:
    return Column(name, MoneyType, nullable=nullable)


def _time(name: str, *, nullable: bool = False) -> Column[datetime]:
    return Column(name, UtcDateTime, nullable=nullable)


customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    _text("source_id", nullable=False),
    _text("platform", nullable=False),
    _text("shop", nullable=False),
    _text("email", nullable=False),
    _text("first_name"),
    _text("last_name"),
    _text("phone"),
    _text("company"),
    _text("locale"),
    _text("country"),
    _text("region"),
    _text("city"),
    _text("postal_code"),
    Column("birthday", Date, nullable=True),
    Column("tags", JsonText, nullable=False),
    Column("attributes", JsonText, nullable=False),
    _text("consent_state", nullable=False),
    _time("consent_updated_at", nullable=True),
    _text("consent_source", nullable=False),
    _text("consent_opt_in_level"),
    Column("is_staff", Boolean, nullable=False),
    _time("created_at"),
    _time("updated_at"),
    _time("stored_at"),
    UniqueConstraint("source_id"),
    Index(None, "email"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True),
    _text("source_id", nullable=False),
    _text("platform", nullable=False),
    _text("shop", nullable=False),
    _text("customer_ref"),
    Column("customer_id", Integer, ForeignKey("customers.id", ondelete="SET NULL"), nullable=True),
    _text("email"),
    _text("number"),
    _text("status", nullable=False),
    _text("financial_status", nullable=False),
    _text("currency", nullable=False),
    _money("subtotal"),
    _money("discount_total"),
    _money("shipping_total"),
    _money("tax_total"),
    _money("total"),
    _money("refunded_total"),
    Column("discount_codes", JsonText, nullable=False),
    _text("source_channel"),
    Column("test", Boolean, nullable=False),
    _time("created_at"),
    _time("updated_at"),
    _time("processed_at", nullable=True),
    _time("cancelled_at", nullable=True),
    _text("billing_country"),
    _text("billing_region"),
    _text("billing_city"),
    _text("billing_postal_code"),
    Column("attributes", JsonText, nullable=False),
    _time("stored_at"),
    UniqueConstraint("source_id"),
    Index(None, "customer_id", "created_at"),
    Index(None, "updated_at"),
    Index(None, "customer_ref"),
    # Guest orders have no customer, only an email: grouping them by person needs this.
    Index(None, "email"),
)

line_items = Table(
    "line_items",
    metadata,
    Column("order_id", Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    # Copied from the order (and filled in by the link step) so per-customer aggregates over
    # millions of line items read one covering index instead of joining through orders.
    Column("customer_id", Integer, ForeignKey("customers.id", ondelete="SET NULL"), nullable=True),
    _text("line_ref"),
    _text("product_id"),
    _text("variant_id"),
    _text("sku"),
    _text("title", nullable=False),
    _text("product_type"),
    _text("category"),
    _text("vendor"),
    Column("quantity", Integer, nullable=False),
    _money("unit_price"),
    _money("total", nullable=True),
    Column("refunded_quantity", Integer, nullable=False),
    PrimaryKeyConstraint("order_id", "position"),
    Index(None, "customer_id", "category", "quantity"),
    Index(None, "customer_id", "product_id"),
)

carts = Table(
    "carts",
    metadata,
    Column("id", Integer, primary_key=True),
    _text("source_id", nullable=False),
    _text("platform", nullable=False),
    _text("shop", nullable=False),
    _text("customer_ref"),
    Column("customer_id", Integer, ForeignKey("customers.id", ondelete="SET NULL"), nullable=True),
    _text("email", nullable=False),
    _text("currency", nullable=False),
    _money("value"),
    Column("items", JsonText, nullable=False),
    _time("created_at"),
    _time("updated_at"),
    _time("completed_at", nullable=True),
    _text("recovery_url"),
    _time("stored_at"),
    UniqueConstraint("source_id"),
    Index(None, "email"),
    Index(None, "customer_ref"),  # the link step looks carts up by customer
)

cursors = Table(
    "cursors",
    metadata,
    _text("scope", nullable=False),
    _text("stream", nullable=False),
    _text("value", nullable=False),
    _time("updated_at"),
    PrimaryKeyConstraint("scope", "stream"),
)

pushed_state = Table(
    "pushed_state",
    metadata,
    _text("sink", nullable=False),
    _text("person_id", nullable=False),
    _text("email", nullable=False),
    _text("contact_id"),
    _text("state_hash", nullable=False),
    # ContactState.canonical_json() verbatim: already deterministic JSON, and what was hashed.
    _text("state", nullable=False),
    _time("pushed_at"),
    PrimaryKeyConstraint("sink", "person_id"),
    Index(None, "sink", "email"),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    _text("pipeline", nullable=False),
    _text("kind", nullable=False),
    _time("started_at"),
    _time("finished_at", nullable=True),
    _text("status", nullable=False),
    Column("counts", JsonText, nullable=False),
    Column("requests", JsonText, nullable=False),
    _text("error"),
    Index(None, "pipeline", "started_at"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True),
    _text("entity", nullable=False),
    _text("record_id", nullable=False),
    # '' means "the whole record": a NULL would never conflict in the unique key below.
    _text("field", nullable=False),
    _text("reason", nullable=False),
    _text("action", nullable=False),
    _text("payload"),
    Column("run_id", Integer, ForeignKey("sync_runs.id", ondelete="SET NULL"), nullable=True),
    _time("first_seen"),
    _time("last_seen"),
    Column("occurrences", Integer, nullable=False),
    _time("resolved_at", nullable=True),
    UniqueConstraint("entity", "record_id", "field"),
)


# --------------------------------------------------------------------------- profiles
# One person per human across the shops of a pipeline (connector.segments.identity), and the
# per-person figures staged from customers, orders, line items and carts
# (connector.segments.metrics). The profile_* tables are derived data, rebuilt by every
# recompute: they carry no foreign key, so writing millions of rows checks no parent per row,
# and the identity step deletes a dropped person's rows itself.

persons = Table(
    "persons",
    metadata,
    Column("id", Integer, primary_key=True),  # grows with creation: the smaller id is the older person
    _text("pipeline", nullable=False),
    _text("person_id", nullable=False),  # "prs_" + 20 hex digits: the key the plan and the sinks use
    _text("email", nullable=False),
    _text("previous_email"),  # set by an email change, so the sink updates the contact it knows
    _time("created_at"),
    _time("updated_at"),
    UniqueConstraint("pipeline", "person_id"),
    UniqueConstraint("pipeline", "email"),
)

person_customers = Table(
    "person_customers",
    metadata,
    _text("pipeline", nullable=False),
    Column("customer_id", Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("person", Integer, ForeignKey("persons.id", ondelete="CASCADE"), nullable=False),
    # The customer's email when last resolved: a difference with customers.email is an email change.
    _text("email", nullable=False),
    PrimaryKeyConstraint("pipeline", "customer_id"),
    Index(None, "person"),
)

# Guest checkouts (orders without a customer) identify a person by their email.
person_guests = Table(
    "person_guests",
    metadata,
    _text("pipeline", nullable=False),
    _text("email", nullable=False),
    Column("person", Integer, ForeignKey("persons.id", ondelete="CASCADE"), nullable=False),
    PrimaryKeyConstraint("pipeline", "email"),
    Index(None, "person"),
)

profile_metrics = Table(
    "profile_metrics",
    metadata,
    Column("person", Integer, primary_key=True, autoincrement=False),
    _text("pipeline", nullable=False),
    Column("as_of", Date, nullable=False),  # the injected "today" of the computation
    Column("orders_count", Integer, nullable=False),
    Column("unconverted_orders", Integer, nullable=False),  # counted, in a currency without a rate
    _money("total_spent"),  # reporting currency, net of refunds
    _money("average_order_value", nullable=True),
    _time("first_order_at", nullable=True),
    _time("last_order_at", nullable=True),
    Column("purchase_frequency", Float, nullable=True),  # average days between orders
    _text("favourite_category"),
    _text("favourite_product_type"),
    Column("discount_orders", Integer, nullable=False),
    _money("cart_value", nullable=True),
    _text("cart_currency"),
    _money("cart_value_reporting", nullable=True),
    Column("cart_items", Integer, nullable=True),
    _text("cart_recovery_url"),
    _time("cart_abandoned_at", nullable=True),
    _time("signup_at", nullable=True),
    _text("first_name"),
    _text("last_name"),
    _text("phone"),
    _text("company"),
    _text("country"),
    _text("region"),
    _text("city"),
    _text("postal_code"),
    Column("birthday", Date, nullable=True),
    Column("is_b2b", Boolean, nullable=False),
    Column("is_staff", Boolean, nullable=False),
    _text("consent_state", nullable=False),
    _time("consent_at", nullable=True),
    _text("consent_source"),
    Column("rfm_recency", Integer, nullable=True),
    Column("rfm_frequency", Integer, nullable=True),
    Column("rfm_monetary", Integer, nullable=True),
    _text("rfm_group"),
    _text("lifecycle", nullable=False),
    # Per cent of the pipeline's buyers who spent less (0-99); NULL without a counted order.
    Column("spend_percentile", Integer, nullable=True),
    # RFM boundaries are read by walking these (connector.segments.metrics_rfm); rules use them too.
    Index(None, "pipeline", "orders_count"),
    Index(None, "pipeline", "total_spent"),
    Index(None, "pipeline", "last_order_at"),
)

profile_money = Table(
    "profile_money",
    metadata,
    Column("person", Integer, nullable=False),
    _text("currency", nullable=False),
    _text("pipeline", nullable=False),
    Column("orders", Integer, nullable=False),
    _money("total_spent"),
    PrimaryKeyConstraint("person", "currency"),
)

profile_values = Table(
    "profile_values",
    metadata,
    _text("name", nullable=False),  # categories, product_types, products, shops, shop_tags, ...
    Column("person", Integer, nullable=False),
    _text("value", nullable=False),
    _text("pipeline", nullable=False),
    # Name first: each set is written by one statement in person order, so its rows land in one
    # contiguous key range instead of between every other set's rows (millions of page splits).
    PrimaryKeyConstraint("name", "person", "value"),
    sqlite_with_rowid=False,  # the primary key is the table: one B-tree
)

profile_attributes = Table(
    "profile_attributes",
    metadata,
    Column("person", Integer, nullable=False),
    _text("name", nullable=False),
    _text("pipeline", nullable=False),
    _text("value_text"),
    Column("value_number", Float, nullable=True),
    Column("value_date", Date, nullable=True),
    PrimaryKeyConstraint("person", "name"),
)

# Who is in each segment now, and since which day (the day they last entered it).
segment_members = Table(
    "segment_members",
    metadata,
    _text("pipeline", nullable=False),
    _text("segment", nullable=False),
    Column("person", Integer, nullable=False),
    Column("since", Date, nullable=False),
    PrimaryKeyConstraint("pipeline", "segment", "person"),
    Index(None, "pipeline", "person"),
)

# Every entry into and exit from a segment, with its day: the history behind transition tags.
segment_history = Table(
    "segment_history",
    metadata,
    Column("id", Integer, primary_key=True),
    _text("pipeline", nullable=False),
    _text("segment", nullable=False),
    Column("person", Integer, nullable=False),
    _text("event", nullable=False),  # entered | left
    Column("day", Date, nullable=False),
    Index(None, "pipeline", "person"),
)

# What each ESP account last reported about a contact (Sink.read_state): the consent guard's input.
esp_contacts = Table(
    "esp_contacts",
    metadata,
    _text("sink", nullable=False),
    _text("email", nullable=False),
    _text("contact_id"),
    Column("blocklisted", Boolean, nullable=False),
    Column("unsubscribed_lists", JsonText, nullable=False),
    Column("subscribed_lists", JsonText, nullable=False),
    Column("managed_tags", JsonText, nullable=False),
    _time("updated_at", nullable=True),
    _time("seen_at"),
    PrimaryKeyConstraint("sink", "email"),
)
