"""Initial store schema: synced entities, cursors, pushed state, sync runs, quarantine.

Revision ID: 0001
Revises:
Create Date: 2026-01-01 00:00:00

Written out with plain SQLAlchemy types (the store's column types are TypeDecorators over
these: UtcDateTime = DateTime(timezone=True), MoneyType = BigInteger of ten-thousandths,
JsonText = Text), so this revision never changes when application code does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(name: str, nullable: bool = True) -> sa.Column[Any]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _time(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _money(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _origin() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        _text("source_id", False),
        _text("platform", False),
        _text("shop", False),
    ]


def upgrade() -> None:
    op.create_table(
        "customers",
        *_origin(),
        _text("email", False),
        _text("first_name"),
        _text("last_name"),
        _text("phone"),
        _text("company"),
        _text("locale"),
        _text("country"),
        _text("region"),
        _text("city"),
        _text("postal_code"),
        sa.Column("birthday", sa.Date(), nullable=True),
        _text("tags", False),
        _text("attributes", False),
        _text("consent_state", False),
        _time("consent_updated_at", True),
        _text("consent_source", False),
        _text("consent_opt_in_level"),
        sa.Column("is_staff", sa.Boolean(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        _time("stored_at"),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
        sa.UniqueConstraint("source_id", name="uq_customers_source_id"),
    )
    op.create_index("ix_customers_email", "customers", ["email"])

    op.create_table(
        "orders",
        *_origin(),
        _text("customer_ref"),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        _text("email"),
        _text("number"),
        _text("status", False),
        _text("financial_status", False),
        _text("currency", False),
        _money("subtotal"),
        _money("discount_total"),
        _money("shipping_total"),
        _money("tax_total"),
        _money("total"),
        _money("refunded_total"),
        _text("discount_codes", False),
        _text("source_channel"),
        sa.Column("test", sa.Boolean(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        _time("processed_at", True),
        _time("cancelled_at", True),
        _text("billing_country"),
        _text("billing_region"),
        _text("billing_city"),
        _text("billing_postal_code"),
        _text("attributes", False),
        _time("stored_at"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_orders_customer_id_customers", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint("source_id", name="uq_orders_source_id"),
    )
    op.create_index("ix_orders_customer_id_created_at", "orders", ["customer_id", "created_at"])
    op.create_index("ix_orders_updated_at", "orders", ["updated_at"])
    op.create_index("ix_orders_customer_ref", "orders", ["customer_ref"])
    op.create_index("ix_orders_email", "orders", ["email"])

    op.create_table(
        "line_items",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        _text("line_ref"),
        _text("product_id"),
        _text("variant_id"),
        _text("sku"),
        _text("title", False),
        _text("product_type"),
        _text("category"),
        _text("vendor"),
        sa.Column("quantity", sa.Integer(), nullable=False),
        _money("unit_price"),
        _money("total", True),
        sa.Column("refunded_quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name="fk_line_items_order_id_orders", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_line_items_customer_id_customers", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("order_id", "position", name="pk_line_items"),
    )
    op.create_index(
        "ix_line_items_customer_id_category_quantity", "line_items", ["customer_id", "category", "quantity"]
    )
    op.create_index("ix_line_items_customer_id_product_id", "line_items", ["customer_id", "product_id"])

    op.create_table(
        "carts",
        *_origin(),
        _text("customer_ref"),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        _text("email", False),
        _text("currency", False),
        _money("value"),
        _text("items", False),
        _time("created_at"),
        _time("updated_at"),
        _time("completed_at", True),
        _text("recovery_url"),
        _time("stored_at"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_carts_customer_id_customers", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_carts"),
        sa.UniqueConstraint("source_id", name="uq_carts_source_id"),
    )
    op.create_index("ix_carts_email", "carts", ["email"])
    op.create_index("ix_carts_customer_ref", "carts", ["customer_ref"])

    op.create_table(
        "cursors",
        _text("scope", False),
        _text("stream", False),
        _text("value", False),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("scope", "stream", name="pk_cursors"),
    )

    op.create_table(
        "pushed_state",
        _text("sink", False),
        _text("person_id", False),
        _text("email", False),
        _text("contact_id"),
        _text("state_hash", False),
        _text("state", False),
        _time("pushed_at"),
        sa.PrimaryKeyConstraint("sink", "person_id", name="pk_pushed_state"),
    )
    op.create_index("ix_pushed_state_sink_email", "pushed_state", ["sink", "email"])

    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("pipeline", False),
        _text("kind", False),
        _time("started_at"),
        _time("finished_at", True),
        _text("status", False),
        _text("counts", False),
        _text("requests", False),
        _text("error"),
        sa.PrimaryKeyConstraint("id", name="pk_sync_runs"),
    )
    op.create_index("ix_sync_runs_pipeline_started_at", "sync_runs", ["pipeline", "started_at"])

    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("entity", False),
        _text("record_id", False),
        _text("field", False),  # '' = the whole record, so the unique key also dedupes those
        _text("reason", False),
        _text("action", False),
        _text("payload"),
        sa.Column("run_id", sa.Integer(), nullable=True),
        _time("first_seen"),
        _time("last_seen"),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        _time("resolved_at", True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_runs.id"], name="fk_quarantine_run_id_sync_runs", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_quarantine"),
        sa.UniqueConstraint("entity", "record_id", "field", name="uq_quarantine_entity_record_id_field"),
    )


def downgrade() -> None:
    for table in ("quarantine", "sync_runs", "pushed_state", "cursors", "carts", "line_items", "orders",
                  "customers"):
        op.drop_table(table)
