"""The state store: the one object the core uses to keep synced records and its own bookkeeping.

Every operation is written once, in :class:`StoreOperations`, against "a connection to read
on" and "a connection to write on". :class:`Store` gives each call its own transaction;
:class:`Transaction` (from :meth:`Store.transaction`) gives all its calls one shared
transaction, so a page of records and the cursor after it commit together or not at all::

    with store.transaction() as tx:
        tx.upsert_orders(page.records)
        tx.add_quarantine(page.quarantined, run_id)
        tx.set_cursor(shop, "orders", page.cursor)
"""

from __future__ import annotations

from collections.abc import Collection, Generator, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Self

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import StatementError

from connector.clock import Clock, SystemClock
from connector.consent import DEFAULT_MAX_SHARE, DEFAULT_MIN_CHANGES
from connector.errors import StateError
from connector.models import Cart, Customer, Order
from connector.protocols import ContactChange, EspContact, Plan, QuarantineEntry
from connector.store import bookkeeping, entities, esp, profiles, pushed
from connector.store.engine import create_store_engine, redacted_url, write_engine
from connector.store.migrate import ensure_current, upgrade
from connector.store.profiles import Profile
from connector.store.pushed import PushedItem
from connector.store.records import PushedContact, QuarantinedRecord, RunKind, RunStatus, SyncRun
from connector.store.schema import metadata

if TYPE_CHECKING:
    from connector.segments.contact_report import ContactReport
    from connector.segments.definitions import Segment
    from connector.segments.desired import ContactBuilder
    from connector.segments.identity import IdentityReport
    from connector.segments.lifecycle import LifecycleThresholds
    from connector.segments.membership import SegmentCount
    from connector.segments.metrics import AttributeSpec, MetricsReport
    from connector.segments.planning import PlanSummary

__all__ = ["Store", "StoreOperations", "Transaction"]


class StoreOperations:
    """Every store operation, on connections supplied by :meth:`_reading` and :meth:`_writing`."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def _reading(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _writing(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._writing() as conn:
            try:
                yield conn
            except StatementError as exc:
                # A column type refused a value (naive datetime, sub-0.0001 money): report that
                # as the ValueError it is, without the statement and its customer data.
                if isinstance(exc.orig, ValueError):
                    raise ValueError(str(exc.orig)) from None
                raise

    # ----------------------------------------------------------------------- entities

    def upsert_customers(self, customers: Iterable[Customer]) -> int:
        """Insert or update customers by id, and link orders and carts already stored for them.

        Returns:
            The number of distinct customers written.
        """
        with self._write() as conn:
            return entities.upsert_customers(conn, customers, self._clock.now())

    def upsert_orders(self, orders: Iterable[Order]) -> int:
        """Insert or update orders by id, replacing their line items; returns how many were written."""
        with self._write() as conn:
            return entities.upsert_orders(conn, orders, self._clock.now())

    def upsert_carts(self, carts: Iterable[Cart]) -> int:
        """Insert or update abandoned carts by id; returns how many were written."""
        with self._write() as conn:
            return entities.upsert_carts(conn, carts, self._clock.now())

    def get_customer(self, source_id: str) -> Customer | None:
        """The stored customer with this namespaced id (``issues`` are not stored), or ``None``."""
        with self._reading() as conn:
            return entities.get_customer(conn, source_id)

    def get_order(self, source_id: str) -> Order | None:
        """The stored order with this namespaced id, line items in order, or ``None``."""
        with self._reading() as conn:
            return entities.get_order(conn, source_id)

    def get_cart(self, source_id: str) -> Cart | None:
        """The stored cart with this namespaced id, or ``None``."""
        with self._reading() as conn:
            return entities.get_cart(conn, source_id)

    def count(self, table_name: str) -> int:
        """How many rows one of the store's tables holds.

        Raises:
            ValueError: ``table_name`` is not a store table.
        """
        table = metadata.tables.get(table_name)
        if table is None:
            raise ValueError(f"unknown store table {table_name!r}; expected one of {sorted(metadata.tables)}")
        with self._reading() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

    # ----------------------------------------------------------------------- cursors

    def get_cursor(self, scope: str, stream: str) -> str | None:
        """The saved cursor of ``stream`` in ``scope`` (e.g. a shop), or ``None``."""
        with self._reading() as conn:
            return bookkeeping.get_cursor(conn, scope, stream)

    def set_cursor(self, scope: str, stream: str, value: str) -> None:
        """Save a cursor. Inside :meth:`Store.transaction`, it commits with the page it follows."""
        with self._write() as conn:
            bookkeeping.set_cursor(conn, scope, stream, value, self._clock.now())

    # ----------------------------------------------------------------------- pushed state

    def get_pushed(self, sink: str, person_id: str) -> PushedContact | None:
        """What ``sink`` last confirmed for ``person_id``, or ``None``."""
        with self._reading() as conn:
            return pushed.get_pushed(conn, sink, person_id)

    def iter_pushed(self, sink: str) -> Generator[PushedContact, None, None]:
        """Every pushed state of ``sink`` in ``person_id`` (code point) order, streamed.

        The connection stays open until the iterator is exhausted or closed; wrap it in
        :func:`contextlib.closing` when stopping early.
        """
        with self._reading() as conn:
            yield from pushed.iter_pushed(conn, sink)

    def record_pushed(self, sink: str, items: Iterable[PushedItem]) -> int:
        """Record confirmed states: ``(person_id, state, contact_id)`` per person; returns how many."""
        with self._write() as conn:
            return pushed.record_pushed(conn, sink, items, self._clock.now())

    # ----------------------------------------------------------------------- profiles
    # The segmentation core builds on the store, so its modules are imported when first used.

    def resolve_identities(
        self,
        pipeline: str,
        shops: Collection[str],
        *,
        exclude_staff: bool = False,
        exclude_test_orders: bool = False,
        changed_customer_ids: Collection[str] | None = None,
        changed_guest_emails: Collection[str] | None = None,
    ) -> IdentityReport:
        """Link the pipeline's customers and guest emails to persons; see :mod:`connector.segments.identity`."""
        from connector.segments.identity import resolve_identities

        with self._write() as conn:
            return resolve_identities(
                conn, pipeline, shops, now=self._clock.now(), exclude_staff=exclude_staff,
                exclude_test_orders=exclude_test_orders, changed_customer_ids=changed_customer_ids,
                changed_guest_emails=changed_guest_emails,
            )

    def compute_metrics(
        self,
        pipeline: str,
        *,
        today: date,
        rates: Mapping[str, Decimal | str | int],
        reporting_currency: str,
        persons: Collection[str] | None = None,
        exclude_test_orders: bool = False,
        attributes: Mapping[str, AttributeSpec | tuple[str, str]] | None = None,
        lifecycle: LifecycleThresholds | None = None,
        shops: Collection[str] | None = None,
    ) -> MetricsReport:
        """Recompute the profile tables (all persons, or ``persons``); see :mod:`connector.segments.metrics`."""
        from connector.segments.metrics import compute_metrics

        with self._write() as conn:
            return compute_metrics(
                conn, pipeline, today=today, rates=rates, reporting_currency=reporting_currency, persons=persons,
                exclude_test_orders=exclude_test_orders, attributes=attributes, lifecycle=lifecycle, shops=shops,
            )

    def get_profile(self, pipeline: str, person_id: str) -> Profile | None:
        """One person's identity, metrics, sets and attributes, or ``None``."""
        with self._reading() as conn:
            return profiles.get_profile(conn, pipeline, person_id)

    def find_person_id(self, pipeline: str, email: str) -> str | None:
        """The ``person_id`` of the person of ``pipeline`` whose current email is ``email``, or ``None``."""
        with self._reading() as conn:
            return profiles.find_person_id(conn, pipeline, email)

    def refresh_memberships(
        self, pipeline: str, segments: list[Segment], *, today: date, persons: Collection[str] | None = None
    ) -> list[SegmentCount]:
        """Re-evaluate segment memberships and record entries and exits; see :mod:`connector.segments.membership`."""
        from connector.segments.membership import refresh_memberships

        with self._write() as conn:
            return refresh_memberships(conn, pipeline, segments, today=today, persons_only=persons)

    def plan(
        self,
        pipeline: str,
        builder: ContactBuilder,
        *,
        only: Collection[str] | None = None,
        max_share: float = DEFAULT_MAX_SHARE,
        force: bool = False,
        min_changes: int = DEFAULT_MIN_CHANGES,
    ) -> tuple[Plan, PlanSummary, dict[str, tuple[int, int]]]:
        """The plan for ``builder.sink`` (see :func:`connector.segments.planning.build_plan`)."""
        from connector.segments.planning import build_plan

        with self._reading() as conn:
            return build_plan(conn, pipeline, builder, now=self._clock.now(), only=only, max_share=max_share,
                              force=force, min_changes=min_changes)

    def iter_changes(
        self, pipeline: str, builder: ContactBuilder, *, only: Collection[str] | None = None
    ) -> Generator[ContactChange, None, None]:
        """The plan's changes for ``builder.sink``, streamed (flat memory; for the largest plans)."""
        from connector.segments.planning import iter_changes

        with self._reading() as conn:
            yield from iter_changes(conn, pipeline, builder, only=only)

    def explain_contact(self, pipeline: str, builder: ContactBuilder, email: str) -> ContactReport | None:
        """One person's metrics, segments and why, consent, history and next change; see
        :mod:`connector.segments.contact_report`."""
        from connector.segments.contact_report import explain_contact

        with self._reading() as conn:
            return explain_contact(conn, pipeline, builder, email)

    # ----------------------------------------------------------------------- ESP state

    def record_esp_contacts(self, sink: str, contacts: Iterable[EspContact]) -> int:
        """Record what ``sink`` reported about its contacts (``Sink.read_state``); returns how many."""
        with self._write() as conn:
            return esp.record_esp_contacts(conn, sink, contacts, self._clock.now())

    def get_esp_contacts(self, sink: str, emails: Collection[str]) -> dict[str, EspContact]:
        """What ``sink`` last reported for each of ``emails``, by email."""
        with self._reading() as conn:
            return esp.get_esp_contacts(conn, sink, emails)

    # ----------------------------------------------------------------------- runs

    def start_run(self, pipeline: str, kind: RunKind | str) -> int:
        """Record the start of a run of ``pipeline``; returns the run id."""
        with self._write() as conn:
            return bookkeeping.start_run(conn, pipeline, RunKind(kind), self._clock.now())

    def finish_run(
        self,
        run_id: int,
        status: RunStatus | str,
        counts: Mapping[str, int],
        requests: Mapping[str, int],
        error: str | None = None,
    ) -> None:
        """Record how a run ended, with record counts and API request counts.

        Raises:
            StateError: there is no run with this id.
        """
        with self._write() as conn:
            bookkeeping.finish_run(conn, run_id, RunStatus(status), counts, requests, error, self._clock.now())

    def recent_runs(self, pipeline: str | None = None, limit: int = 10) -> list[SyncRun]:
        """The latest runs, newest first, of one pipeline or of all."""
        with self._reading() as conn:
            return bookkeeping.recent_runs(conn, pipeline, limit)

    # ----------------------------------------------------------------------- quarantine

    def add_quarantine(self, entries: Iterable[QuarantineEntry], run_id: int | None = None) -> int:
        """Record quarantine entries, counting repeats of a known one instead of duplicating it."""
        with self._write() as conn:
            return bookkeeping.add_quarantine(conn, entries, run_id, self._clock.now())

    def resolve_quarantine(self, entity: str, record_ids: Iterable[str]) -> int:
        """Mark these records' open entries resolved (they later passed); returns how many."""
        with self._write() as conn:
            return bookkeeping.resolve_quarantine(conn, entity, record_ids, self._clock.now())

    def list_quarantine(self, unresolved_only: bool = True, limit: int = 100) -> list[QuarantinedRecord]:
        """Quarantine entries, most recently seen first."""
        with self._reading() as conn:
            return bookkeeping.list_quarantine(conn, unresolved_only, limit)

    def count_quarantine(self, unresolved_only: bool = True) -> int:
        """How many quarantine entries there are (open ones only, by default)."""
        with self._reading() as conn:
            return bookkeeping.count_quarantine(conn, unresolved_only)


class Store(StoreOperations):
    """The state store. Each call runs in its own transaction; see :meth:`transaction`.

    Open it with :meth:`open`; close it (or use it as a context manager) to release connections.
    """

    def __init__(self, engine: Engine, *, clock: Clock | None = None) -> None:
        """Wrap an engine on a store that is already migrated; :meth:`open` is the usual way in."""
        super().__init__(clock or SystemClock())
        self._engine = engine
        self._writer = write_engine(engine)

    @classmethod
    def open(cls, url: str, *, clock: Clock | None = None, migrate: bool = True) -> Store:
        """Open the store at ``url``, bringing its schema up to date unless ``migrate`` is false.

        Raises:
            StateError: the store is newer than this connector, or (with ``migrate=False``) not
                at this connector's schema revision.
        """
        engine = create_store_engine(url)
        try:
            if migrate:
                upgrade(engine)
            else:
                ensure_current(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, clock=clock)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for read queries of the segmentation core."""
        return self._engine

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({redacted_url(self._engine.url)!r})"

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One transaction for several operations: all of them commit, or none (on any exception).

        Write through ``tx`` only: a write through the :class:`Store` itself inside the block
        would, on SQLite, wait for the write lock this transaction holds. Reads through the
        store see the last commit, not this transaction's changes.
        """
        with self._writer.begin() as conn:
            tx = Transaction(conn, self._clock)
            try:
                yield tx
            finally:
                tx._finish()

    def _reading(self) -> AbstractContextManager[Connection]:
        return self._engine.connect()

    def _writing(self) -> AbstractContextManager[Connection]:
        return self._writer.begin()


class Transaction(StoreOperations):
    """The store's operations sharing one open transaction; valid only inside its ``with`` block."""

    def __init__(self, connection: Connection, clock: Clock) -> None:
        super().__init__(clock)
        self._connection: Connection | None = connection

    def _finish(self) -> None:
        self._connection = None

    def _shared(self) -> AbstractContextManager[Connection]:
        if self._connection is None:
            raise StateError("this store transaction has ended; start a new one with Store.transaction()")
        return nullcontext(self._connection)

    def _reading(self) -> AbstractContextManager[Connection]:
        return self._shared()

    def _writing(self) -> AbstractContextManager[Connection]:
        return self._shared()
