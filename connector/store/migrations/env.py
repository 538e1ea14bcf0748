"""Alembic environment for the store: runs on the connection :mod:`connector.store.migrate` passes in."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.types import TypeDecorator

from connector.errors import StateError
from connector.store.schema import metadata

target_metadata = metadata


def render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write the store's own column types as their plain SQLAlchemy implementation.

    A revision must describe the schema as it was when written: if it imported
    ``connector.store.coltypes``, a later change to those classes would change old revisions.
    """
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False  # Alembic's default rendering


if context.is_offline_mode():
    raise StateError("store migrations run online only, through connector.store.migrate.upgrade()")

connection = context.config.attributes.get("connection")
if connection is None:
    raise StateError("run store migrations through connector.store.migrate.upgrade(), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    # SQLite cannot ALTER most things: later revisions recreate tables in batch mode there.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    render_item=render_item,
)

with context.begin_transaction():
    context.run_migrations()
