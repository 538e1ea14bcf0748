"""One pipeline run: pull from the shops, derive profiles and segments, plan and push to each ESP.

Steps, each resumable (an interrupted run leaves nothing half-done that the next run misses):

1. **Pull** each stream of each shop from its saved cursor. Every page is committed with its
   cursor in one transaction, so a crash replays at most one page.
2. **Derive**: identities, metrics and segment memberships, for the persons touched since the last
   *completed* run (all persons on a full refresh or a backfill). "Touched" is read from the store
   (records stored after the pipeline's derive watermark), not remembered in memory, so a run
   interrupted after pulling still recomputes what it pulled.
3. **Read ESP state** (unsubscribes, blocklist, list memberships) since each sink's own cursor,
   recorded in the store: the consent guard's input. Contacts that changed there are re-planned.
4. **Plan** per sink: desired state against what the sink last confirmed; refused if it would
   change more than a share of a list (unless forced).
5. **Apply** each plan; every confirmed result is recorded as pushed as soon as the sink reports it,
   failures are recorded with their reasons (and retried next run: they were not recorded as pushed).
   Re-running after an interruption between apply and record re-sends the same idempotent upserts
   (by email): no duplicate contact, no lost change.
6. The derive watermark advances only when every sink's plan was applied.

A dry run does steps 1-4 inside one store transaction that is rolled back, and never calls a sink's
``ensure_schema`` or ``apply``: nothing is written anywhere.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from connector.clock import Clock
from connector.consent import DEFAULT_MAX_SHARE, ConsentShareError
from connector.cursors import format_cursor, parse_cursor
from connector.errors import ConnectorError
from connector.protocols import Plan, PushStatus, QuarantineEntry, Sink, Source, Stream, iter_stream
from connector.segments.definitions import SegmentDefinitions
from connector.segments.desired import ContactBuilder
from connector.segments.membership import SegmentCount
from connector.segments.planning import PlanSummary, plan_basis, summarize
from connector.store import Store
from connector.store.records import RunKind, RunStatus
from connector.store.schema import carts, customers, orders, persons, profile_values

__all__ = ["PipelineRun", "RunOptions", "RunReport", "SinkReport", "StalePlanError", "StreamCount"]

_log = logging.getLogger(__name__)

DERIVED = "derived"  # cursor stream of the derive watermark, in scope pipeline:<name>
ESP_STATE = "state"  # cursor stream of a sink's read_state, in scope esp:<sink>
ProgressHook = Callable[[str, str, int], None]  # (shop, stream, records so far)


class StalePlanError(ConnectorError):
    """A saved plan no longer matches what the sink holds; it was not applied."""


class _RollBack(Exception):  # noqa: N818 - control flow, never escapes
    """Ends a dry run's transaction by rolling it back."""


class StreamCount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: int = 0
    quarantined: int = 0
    pages: int = 0


class SinkReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary: PlanSummary
    consent: dict[str, tuple[int, int]] = Field(default_factory=dict)
    esp_contacts_read: int = 0
    confirmed: int = 0
    failed: int = 0
    failures: list[tuple[str, str]] = Field(default_factory=list)  # (email, reason), the first few
    refused: str | None = None  # the consent guard's refusal, when the plan was not applied
    plan: Plan | None = Field(default=None, exclude=True)


class RunReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pipeline: str
    kind: str
    run_id: int | None = None
    dry_run: bool = False
    started_at: datetime
    finished_at: datetime | None = None
    outcome: str = "running"
    streams: dict[str, StreamCount] = Field(default_factory=dict)
    persons_planned: int | None = None  # None: everyone (full)
    segments: list[SegmentCount] = Field(default_factory=list)
    sinks: dict[str, SinkReport] = Field(default_factory=dict)
    requests: dict[str, int] = Field(default_factory=dict)
    error: str | None = None

    def counts(self) -> dict[str, int]:
        """Flat counts for the run record."""
        out = {f"{key}.records": c.records for key, c in self.streams.items()}
        out.update({f"{key}.quarantined": c.quarantined for key, c in self.streams.items() if c.quarantined})
        for sink, report in self.sinks.items():
            out[f"{sink}.creates"] = report.summary.creates
            out[f"{sink}.updates"] = report.summary.updates
            out[f"{sink}.confirmed"] = report.confirmed
            out[f"{sink}.failed"] = report.failed
        return out


@dataclass(frozen=True)
class RunOptions:
    kind: RunKind = RunKind.SYNC
    full: bool = False  # derive and plan for everyone (daily full refresh, backfill)
    streams: tuple[Stream, ...] = (Stream.CUSTOMERS, Stream.ORDERS, Stream.CARTS)
    since: datetime | None = None  # backfill: orders and carts from this time (customers always in full)
    restart: bool = False  # backfill: ignore saved cursors (read everything again)
    dry_run: bool = False
    force: bool = False  # apply a plan the consent-share guard refused
    max_share: float = DEFAULT_MAX_SHARE
    sinks: tuple[str, ...] | None = None  # None: every sink of the pipeline
    plans: Mapping[str, Plan] | None = None  # apply exactly these saved plans (sync --apply)


@dataclass
class PipelineRun:
    """Runs one pipeline against its sources and sinks (already built), on ``store``."""

    name: str
    shops: Sequence[str]
    store: Store
    definitions: SegmentDefinitions
    sources: Mapping[str, Source]
    sinks: Mapping[str, Sink]
    clock: Clock
    timezone: str = "UTC"
    request_counters: Callable[[], Mapping[str, int]] = field(default=lambda: {})

    def today(self) -> date:
        """The pipeline's calendar day (its schedule's time zone): time-based segments move with it."""
        return self.clock.now().astimezone(ZoneInfo(self.timezone)).date()

    async def run(self, options: RunOptions = RunOptions(), progress: ProgressHook | None = None) -> RunReport:
        report = RunReport(pipeline=self.name, kind=options.kind.value, started_at=self.clock.now(),
                           dry_run=options.dry_run)
        if not options.dry_run:
            report.run_id = self.store.start_run(self.name, options.kind)
        try:
            if options.dry_run:
                await self._dry_run(options, report, progress)
            else:
                await self._run(options, report, progress)
            report.outcome = "succeeded" if not any(s.refused for s in report.sinks.values()) else "refused"
        except ConsentShareError as exc:
            report.outcome, report.error = "refused", str(exc)
        except ConnectorError as exc:
            report.outcome, report.error = "failed", str(exc)
            raise
        except BaseException as exc:  # Ctrl-C, cancellation: recorded as interrupted, then re-raised
            report.outcome, report.error = "interrupted", type(exc).__name__
            raise
        finally:
            report.finished_at = self.clock.now()
            report.requests = dict(self.request_counters())
            if report.run_id is not None:
                status = {"succeeded": RunStatus.SUCCEEDED, "interrupted": RunStatus.INTERRUPTED}.get(
                    report.outcome, RunStatus.FAILED)
                self.store.finish_run(report.run_id, status, report.counts(), report.requests, report.error)
        return report

    # ------------------------------------------------------------------ the steps

    async def _run(self, options: RunOptions, report: RunReport, progress: ProgressHook | None) -> None:
        pulled_from = self.clock.now()
        watermark = self._watermark(options)
        if options.plans is None:
            await self._pull(self.store, options, report, progress)
        only = self._derive(self.store, watermark)
        categories = self._categories()
        report.persons_planned = None if only is None else len(only)
        # Each ESP account has its own rate limits: every sink runs its steps at the same time.
        outcomes = await asyncio.gather(*(
            self._push(sink_name, sink, only, categories, options, report)
            for sink_name, sink in self._sinks(options).items()))
        complete = all(outcomes)
        if complete and options.sinks is None:
            self.store.set_cursor(self._scope, DERIVED, format_cursor(pulled_from - timedelta(seconds=1)))

    async def _push(self, sink_name: str, sink: Sink, only: list[str] | None, categories: set[str],
                    options: RunOptions, report: RunReport) -> bool:
        """Provision, read the ESP's state, plan and apply for one sink; whether it completed."""
        builder = ContactBuilder(self.definitions, sink_name, self.today())
        await sink.ensure_schema(builder.schema(categories, tuple(self.shops)))
        changed_there = await self._read_esp_state(self.store, sink_name, sink, report)
        planned = None if only is None else sorted(set(only) | changed_there)
        saved = (options.plans or {}).get(sink_name)
        sink_report = self._plan(self.store, builder, planned, options, saved)
        sink_report.esp_contacts_read = report.sinks[sink_name].esp_contacts_read
        report.sinks[sink_name] = sink_report
        if sink_report.refused or sink_report.plan is None:
            return False
        await self._apply(sink_name, sink, sink_report)
        return sink_report.failed == 0

    async def _dry_run(self, options: RunOptions, report: RunReport, progress: ProgressHook | None) -> None:
        watermark = self._watermark(options)
        try:
            with self.store.transaction() as tx:
                await self._pull(tx, options, report, progress)
                only = self._derive(tx, watermark)
                # No read_state: reading needs the sink's schema provisioned, which writes. The plan
                # uses the ESP state recorded by the last run.
                planned = None if only is None else sorted(only)
                report.persons_planned = None if planned is None else len(planned)
                for sink_name in self._sinks(options):
                    builder = ContactBuilder(self.definitions, sink_name, self.today())
                    report.sinks[sink_name] = self._plan(tx, builder, planned, options, None)
                raise _RollBack
        except _RollBack:
            pass  # every write of the dry run is undone

    async def _pull(self, target: Any, options: RunOptions, report: RunReport, progress: ProgressHook | None) -> None:
        # Shops are separate accounts with their own limits: read them at the same time. Each page is
        # committed by a synchronous call, so pages of different shops never interleave within a commit.
        await asyncio.gather(*(self._pull_shop(target, shop, options, report, progress) for shop in self.shops))

    async def _pull_shop(self, target: Any, shop: str, options: RunOptions, report: RunReport,
                         progress: ProgressHook | None) -> None:
        source = self.sources[shop]
        for stream in options.streams:
            count = report.streams.setdefault(f"{shop}.{stream.value}", StreamCount())
            cursor = None if options.restart else target.get_cursor(shop, stream.value)
            if options.since is not None and stream is not Stream.CUSTOMERS and cursor is None:
                cursor = format_cursor(options.since)
            async for page in iter_stream(source, stream, cursor):
                self._commit_page(target, shop, stream, page)
                count.records += len(page.records)
                count.quarantined += len(page.quarantined)
                count.pages += 1
                if progress is not None:
                    progress(shop, stream.value, count.records)

    def _commit_page(self, target: Any, shop: str, stream: Stream, page: Any) -> None:
        def write(tx: Any) -> None:
            if page.customers:
                tx.upsert_customers(page.customers)
            if page.records:
                {Stream.CUSTOMERS: tx.upsert_customers, Stream.ORDERS: tx.upsert_orders,
                 Stream.CARTS: tx.upsert_carts}[stream](page.records)
            if page.quarantined:
                tx.add_quarantine(page.quarantined)
            if page.cursor is not None:
                tx.set_cursor(shop, stream.value, page.cursor)

        if isinstance(target, Store):
            with target.transaction() as tx:
                write(tx)
        else:
            write(target)

    def _derive(self, target: Any, watermark: datetime | None) -> list[str] | None:
        """Identities, metrics and memberships; returns the persons touched, or None (everyone)."""
        d = self.definitions
        scope: dict[str, Any] = {}
        if watermark is not None:
            scope = self._changed_since(target, watermark)
        report = target.resolve_identities(self.name, self.shops, exclude_staff=d.identity.exclude_staff,
                                           exclude_test_orders=d.identity.exclude_test_orders, **scope)
        touched = None if watermark is None else list(report.touched or ())
        if touched == []:
            return []
        metrics = target.compute_metrics(self.name, today=self.today(), rates=d.currency.rates,
                                         reporting_currency=d.currency.reporting_currency, persons=touched,
                                         exclude_test_orders=d.identity.exclude_test_orders,
                                         attributes=dict(d.attributes), lifecycle=d.lifecycle, shops=self.shops)
        if touched is not None:  # the re-ranking moved others' RFM scores: their contacts change too
            touched = sorted(set(touched) | set(metrics.rescored or ()))
        target.refresh_memberships(self.name, list(d.segments), today=self.today(), persons=touched)
        return touched

    def _changed_since(self, target: Any, watermark: datetime) -> dict[str, Any]:
        with target._reading() as conn:  # noqa: SLF001 - the store's own connection, read-only
            ids = list(conn.execute(select(customers.c.source_id).where(
                customers.c.shop.in_(list(self.shops)), customers.c.stored_at > watermark)).scalars())
            emails: set[str] = set()
            for table in (orders, carts):
                emails.update(e for e in conn.execute(select(table.c.email).where(
                    table.c.shop.in_(list(self.shops)), table.c.stored_at > watermark,
                    table.c.email.is_not(None))).scalars())
                ids.extend(conn.execute(select(table.c.customer_ref).where(
                    table.c.shop.in_(list(self.shops)), table.c.stored_at > watermark,
                    table.c.customer_ref.is_not(None))).scalars())
        return {"changed_customer_ids": sorted(set(ids)), "changed_guest_emails": sorted(emails)}

    async def _read_esp_state(self, target: Any, sink_name: str, sink: Sink, report: RunReport) -> set[str]:
        """Record what ``sink`` reports; returns the person ids whose contact changed there since last time."""
        scope = f"esp:{sink_name}"
        since = parse_cursor(target.get_cursor(scope, ESP_STATE), "esp")
        started = self.clock.now()
        batch = [contact async for contact in sink.read_state(since)]
        target.record_esp_contacts(sink_name, batch)
        target.set_cursor(scope, ESP_STATE, format_cursor(started - timedelta(minutes=1)))
        report.sinks[sink_name] = SinkReport(summary=PlanSummary(sink=sink_name), esp_contacts_read=len(batch))
        if since is None or not batch:
            return set()
        with target._reading() as conn:  # noqa: SLF001
            found = conn.execute(select(persons.c.person_id).where(
                persons.c.pipeline == self.name, persons.c.email.in_(sorted({c.email for c in batch})))).scalars()
            return set(found)

    def _plan(self, target: Any, builder: ContactBuilder, only: list[str] | None, options: RunOptions,
              saved: Plan | None) -> SinkReport:
        if saved is not None:
            with target._reading() as conn:  # noqa: SLF001
                current = plan_basis(conn, builder.sink)
            if saved.basis != current:
                raise StalePlanError(
                    f"the saved plan for {builder.sink} is stale: something was pushed to it since the plan was "
                    f"made ({saved.basis} then, {current} now); make a new one with sync --dry-run --plan-out")
            return SinkReport(summary=summarize(builder.sink, saved.changes), plan=saved)
        try:
            plan, summary, consent = target.plan(self.name, builder, only=only, max_share=options.max_share,
                                                 force=options.force)
        except ConsentShareError as exc:
            return SinkReport(summary=PlanSummary(sink=builder.sink), refused=str(exc))
        return SinkReport(summary=summary, consent=consent, plan=plan)

    async def _apply(self, sink_name: str, sink: Sink, sink_report: SinkReport) -> None:
        plan = sink_report.plan
        assert plan is not None  # noqa: S101 - checked by the caller
        changes = {change.person_id: change for change in plan.changes}
        entity = f"push:{sink_name}"
        async for results in sink.apply(plan):
            confirmed = [r for r in results if r.status is PushStatus.CONFIRMED]
            failed = [r for r in results if r.status is PushStatus.FAILED]
            with self.store.transaction() as tx:
                tx.record_pushed(sink_name, [(r.person_id, changes[r.person_id].desired, r.contact_id)
                                             for r in confirmed if r.person_id in changes])
                if failed:
                    tx.add_quarantine([QuarantineEntry(entity=entity, record_id=r.person_id, field=None,
                                                       reason=r.reason or "failed")
                                       for r in failed])
                if confirmed:
                    tx.resolve_quarantine(entity, [r.person_id for r in confirmed])
            sink_report.confirmed += len(confirmed)
            sink_report.failed += len(failed)
            for r in failed[: max(0, 10 - len(sink_report.failures))]:
                email = changes[r.person_id].email if r.person_id in changes else r.person_id
                sink_report.failures.append((email, r.reason or "failed"))

    # ------------------------------------------------------------------ helpers

    def _watermark(self, options: RunOptions) -> datetime | None:
        """Records stored after this are what the run derives again (``None``: everything)."""
        return None if options.full else parse_cursor(self.store.get_cursor(self._scope, DERIVED), "pipeline")

    @property
    def _scope(self) -> str:
        return f"pipeline:{self.name}"

    def _sinks(self, options: RunOptions) -> dict[str, Sink]:
        if options.sinks is None:
            return dict(self.sinks)
        return {name: sink for name, sink in self.sinks.items() if name in options.sinks}

    def _categories(self) -> set[str]:
        with self.store._reading() as conn:  # noqa: SLF001
            return set(conn.execute(select(profile_values.c.value).where(
                profile_values.c.name == "categories", profile_values.c.pipeline == self.name).distinct()).scalars())
