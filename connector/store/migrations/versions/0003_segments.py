"""Segment memberships and their history, the ESP's own view of contacts, the spend percentile.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 22:00:00

In the style of 0001 and 0002: plain SQLAlchemy types, so the revision never changes when
application code does. ``esp_contacts`` keeps JSON as text, as ``JsonText`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(name: str, nullable: bool = True) -> sa.Column[Any]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _int(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("profile_metrics") as batch:
        batch.add_column(_int("spend_percentile", True))

    op.create_table(
        "segment_members",
        _text("pipeline", False),
        _text("segment", False),
        _int("person"),
        sa.Column("since", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("pipeline", "segment", "person", name="pk_segment_members"),
    )
    op.create_index("ix_segment_members_pipeline_person", "segment_members", ["pipeline", "person"])

    op.create_table(
        "segment_history",
        _int("id"),
        _text("pipeline", False),
        _text("segment", False),
        _int("person"),
        _text("event", False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_segment_history"),
    )
    op.create_index("ix_segment_history_pipeline_person", "segment_history", ["pipeline", "person"])

    op.create_table(
        "esp_contacts",
        _text("sink", False),
        _text("email", False),
        _text("contact_id"),
        sa.Column("blocklisted", sa.Boolean(), nullable=False),
        _text("unsubscribed_lists", False),
        _text("subscribed_lists", False),
        _text("managed_tags", False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sink", "email", name="pk_esp_contacts"),
    )


def downgrade() -> None:
    for table in ("esp_contacts", "segment_history", "segment_members"):
        op.drop_table(table)
    with op.batch_alter_table("profile_metrics") as batch:
        batch.drop_column("spend_percentile")
