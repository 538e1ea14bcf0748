"""Versioned schema migrations (Alembic), configured in code: no ``alembic.ini`` to ship or find.

The revisions live in ``connector/store/migrations/versions``. Every schema change is a new
revision, so upgrading an existing store never loses data. A store written by a newer
connector (a revision we do not know) is refused rather than guessed at.

To add a revision: change ``schema.py``, then, on a store at head, run
``command.revision(alembic_config(conn), "what changed", autogenerate=True, rev_id="0002")``
and review the generated file (``tests/test_migrations.py`` fails until schema and
migrations agree). On SQLite, revisions that rebuild a table (batch mode) must turn
``PRAGMA foreign_keys`` off around the rebuild, or the ``ON DELETE`` actions fire.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from connector.errors import StateError
from connector.store.engine import redacted_url, write_engine

__all__ = ["current_revision", "ensure_current", "head_revision", "upgrade"]

_SCRIPT_LOCATION = Path(__file__).with_name("migrations")
# Any constant: serialises concurrent upgrades of one PostgreSQL database (daemon and CLI
# starting together). SQLite needs nothing: the write transaction already locks the file.
_PG_LOCK_KEY = 0x636F6E6E  # "conn"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the store's migrations, optionally bound to ``connection``."""
    config = Config()
    # configparser interpolates '%', which may appear in an installation path.
    config.set_main_option("script_location", str(_SCRIPT_LOCATION).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this connector knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise StateError("the connector ships no store migrations")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or ``None`` for a store never migrated."""
    with engine.connect() as conn:
        return _current(conn)


def upgrade(engine: Engine) -> None:
    """Bring the store to the newest revision; a store already there is left untouched.

    Raises:
        StateError: the store is at a revision this connector does not know (a newer one).
    """
    with write_engine(engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        current = _current(conn)
        _check_known(engine, current)
        if current != head_revision():
            command.upgrade(alembic_config(conn), "head")


def ensure_current(engine: Engine) -> None:
    """Check, without changing anything, that the store is exactly at this connector's head.

    Raises:
        StateError: the store is not initialised, older (needs :func:`upgrade`) or newer.
    """
    current = current_revision(engine)
    _check_known(engine, current)
    head = head_revision()
    if current != head:
        where = redacted_url(engine.url)
        state = "not initialised" if current is None else f"at revision {current}, older than head {head}"
        raise StateError(f"the store at {where} is {state}; open it with migrations enabled to upgrade it")


def _current(conn: Connection) -> str | None:
    heads = MigrationContext.configure(conn).get_current_heads()
    if len(heads) > 1:
        raise StateError(f"the store has several schema revisions at once ({', '.join(heads)}); repair it")
    return heads[0] if heads else None


def _check_known(engine: Engine, current: str | None) -> None:
    if current is None:
        return
    script = ScriptDirectory.from_config(alembic_config())
    known = {revision.revision for revision in script.walk_revisions()}
    if current not in known:
        raise StateError(
            f"the store at {redacted_url(engine.url)} is at revision {current}, newer than this "
            f"connector (head {script.get_current_head()}); upgrade connector"
        )
