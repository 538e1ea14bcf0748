"""The pipeline end to end: two shops and two ESP accounts as in-process sandboxes, on a manual clock.

What a user relies on: a dry run writes nothing anywhere, a saved plan applies exactly, a second sync
with no source change writes nothing, an interruption between apply and record neither duplicates a
contact nor loses a change, and the ESP's unsubscribes survive every sync.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from connector.cli import app
from connector.clock import ManualClock
from connector.pipeline import RunOptions, StalePlanError
from connector.protocols import Plan, PushResult
from connector.store.records import RunKind
from connectors.activecampaign.sandbox import account_of as ac_account
from connectors.brevo.sandbox import account_of as brevo_account
from connectors.demo import ACTIVECAMPAIGN, BREVO, DEMO_NOW, DemoWorld, build_world, simulate_day

CUSTOMERS = 40


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[DemoWorld]:
    built = build_world(tmp_path / "demo", customers=CUSTOMERS, clock=ManualClock(DEMO_NOW))
    yield built
    await built.aclose()


def writes(world: DemoWorld) -> dict[str, int]:
    """Write requests each ESP sandbox received (the shops' GraphQL reads are POSTs, so shops are left out)."""
    return {name: sum(1 for e in world.sandboxes[name].log.entries if e.method != "GET")
            for name in (ACTIVECAMPAIGN, BREVO)}


def esp_emails(world: DemoWorld) -> dict[str, list[str]]:
    ac = ac_account(world.sandboxes[ACTIVECAMPAIGN])
    brevo = brevo_account(world.sandboxes[BREVO])
    return {ACTIVECAMPAIGN: sorted(c.email for c in ac.contacts.values()),
            BREVO: sorted(c.email for c in brevo.contacts.values() if c.email)}


async def test_backfill_then_a_second_sync_without_changes_writes_nothing(world: DemoWorld) -> None:
    report = await world.pipeline.run(RunOptions(kind=RunKind.BACKFILL, full=True))
    assert report.outcome == "succeeded"
    persons = world.store.count("persons")
    for sink in (ACTIVECAMPAIGN, BREVO):
        assert report.sinks[sink].summary.creates == report.sinks[sink].confirmed == persons
        assert report.sinks[sink].failed == 0
    emails = esp_emails(world)
    # One contact per person in each ESP, with the person's email: what the store recorded as pushed.
    for sink in (ACTIVECAMPAIGN, BREVO):
        assert emails[sink] == sorted(p.email for p in world.store.iter_pushed(sink))
        assert len(emails[sink]) == persons
    before = writes(world)
    world.clock.advance(900)  # type: ignore[attr-defined]
    again = await world.pipeline.run(RunOptions())
    assert again.outcome == "succeeded"
    assert all(sr.summary.contacts == 0 for sr in again.sinks.values())
    after = writes(world)
    assert after[ACTIVECAMPAIGN] == before[ACTIVECAMPAIGN] and after[BREVO] == before[BREVO]


async def test_a_dry_run_writes_nothing_anywhere_and_a_saved_plan_applies_exactly(world: DemoWorld) -> None:
    await world.pipeline.run(RunOptions(kind=RunKind.BACKFILL, full=True))
    world.clock.advance(86_400)  # type: ignore[attr-defined]
    events = simulate_day(world, pushed_emails=[p.email for p in world.store.iter_pushed(ACTIVECAMPAIGN)])
    world.clock.advance(60)  # type: ignore[attr-defined]
    runs, pushed, cursors = (world.store.recent_runs("demo"), list(world.store.iter_pushed(BREVO)),
                             world.store.get_cursor("shopify_shop", "orders"))
    before = writes(world)
    dry = await world.pipeline.run(RunOptions(dry_run=True))
    assert dry.outcome == "succeeded" and dry.run_id is None
    assert writes(world) == before  # no POST, PUT or DELETE reached either ESP
    assert world.store.recent_runs("demo") == runs and list(world.store.iter_pushed(BREVO)) == pushed
    assert world.store.get_cursor("shopify_shop", "orders") == cursors  # the pull was rolled back too
    planned = {sink: sr.plan for sink, sr in dry.sinks.items()}
    assert all(plan is not None and plan.changes for plan in planned.values())
    buyers = {c.email for c in planned[BREVO].changes}  # type: ignore[union-attr]
    assert set(events.new_orders) <= buyers and events.email_change[1] in buyers  # type: ignore[index]

    # Saved to a file and read back, the plan is applied as it is: the same changes, nothing replanned.
    saved = {sink: Plan.model_validate_json(plan.model_dump_json()) for sink, plan in planned.items()}  # type: ignore[union-attr]
    applied = await world.pipeline.run(RunOptions(plans=saved, sinks=tuple(saved)))
    assert applied.outcome == "succeeded"
    for sink, plan in saved.items():
        result = applied.sinks[sink]
        # A dry run cannot read the ESPs' new state (reading needs the sink's provisioning, which
        # writes), so the plan did not know of today's unsubscribe there: the sink itself refused to
        # put that person back on a list, and said why. Everyone else was confirmed.
        assert result.confirmed + result.failed == len(plan.changes) and result.failed <= 1
        unsubscribed = events.unsubscribed[sink]
        assert all(email == unsubscribed for email, _ in result.failures)
        recorded = {p.person_id: p.state_hash for p in world.store.iter_pushed(sink)}
        failed = {email for email, _ in result.failures}
        assert all(recorded[c.person_id] == c.desired.digest() for c in plan.changes if c.email not in failed)
    # The same plan again is stale: something was pushed since it was made.
    with pytest.raises(StalePlanError, match="stale"):
        await world.pipeline.run(RunOptions(plans=saved, sinks=tuple(saved)))
    # The email change updated the existing contact: still one contact per person.
    emails = esp_emails(world)
    old, new = events.email_change  # type: ignore[misc]
    assert new in emails[ACTIVECAMPAIGN] and old not in emails[ACTIVECAMPAIGN]
    assert len(emails[BREVO]) == world.store.count("persons")
    # The ESP unsubscribes stood: nobody re-subscribed in ActiveCampaign, no Brevo blocklist cleared.
    assert ac_account(world.sandboxes[ACTIVECAMPAIGN]).resubscriptions == []
    assert brevo_account(world.sandboxes[BREVO]).blocklist_clears == []


class _Killed(Exception):  # noqa: N818 - stands for the process being killed
    """The process dies (a SIGKILL leaves no chance to record anything either)."""


class _CrashAfterApply:
    """A sink that applies for real, then dies before the pipeline can record what it confirmed."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name

    async def ensure_schema(self, spec: Any) -> None:
        await self.inner.ensure_schema(spec)

    def read_state(self, since: Any) -> Any:
        return self.inner.read_state(since)

    async def apply(self, plan: Plan) -> AsyncIterator[Sequence[PushResult]]:
        async for _results in self.inner.apply(plan):
            pass
        raise _Killed  # the process is killed between the ESP's answer and our commit
        yield  # pragma: no cover - makes this an async generator

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_an_interruption_between_apply_and_record_loses_nothing_and_duplicates_nothing(
        world: DemoWorld) -> None:
    await world.pipeline.run(RunOptions(kind=RunKind.BACKFILL, full=True))
    world.clock.advance(86_400)  # type: ignore[attr-defined]
    events = simulate_day(world, pushed_emails=[p.email for p in world.store.iter_pushed(ACTIVECAMPAIGN)])
    real = dict(world.pipeline.sinks)
    world.pipeline.sinks = {name: _CrashAfterApply(sink) for name, sink in real.items()}
    with pytest.raises(_Killed):
        await world.pipeline.run(RunOptions())
    assert world.store.recent_runs("demo", limit=1)[0].status.value == "interrupted"
    world.pipeline.sinks = real
    world.clock.advance(60)  # type: ignore[attr-defined]
    rerun = await world.pipeline.run(RunOptions())
    assert rerun.outcome == "succeeded"
    # The changes the crash left unrecorded were planned again and confirmed; nothing was lost.
    for sink in (ACTIVECAMPAIGN, BREVO):
        assert rerun.sinks[sink].confirmed == rerun.sinks[sink].summary.contacts > 0
        assert rerun.sinks[sink].summary.creates == 0  # every contact already existed: updated, not re-created
    emails = esp_emails(world)
    persons = world.store.count("persons")
    assert len(emails[ACTIVECAMPAIGN]) == len(set(emails[ACTIVECAMPAIGN])) == persons
    assert len(emails[BREVO]) == len(set(emails[BREVO])) == persons
    assert events.email_change is not None and events.email_change[1] in emails[ACTIVECAMPAIGN]
    final = await world.pipeline.run(RunOptions())
    assert all(sr.summary.contacts == 0 for sr in final.sinks.values())


def test_the_demo_command_runs_and_its_numbers_match_the_sandboxes(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--json", "demo", "--customers", "30", "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output[-3000:]
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["ok"] is True
    for esp in (ACTIVECAMPAIGN, BREVO):
        first = summary["first_sync"]["esps"][esp]
        assert first["contacts"] == first["sandbox_contacts"] > 0 and first["failed"] == 0
        assert first["requests"] < first["one_call_per_contact"]
        day = summary["day"]["esps"][esp]
        assert day["creates"] == 0 and day["email_changes"] == 1
        assert day["sandbox_contacts"] == first["sandbox_contacts"]  # the email change made no second contact
    assert summary["day"]["unsubscribes_respected"] is True
    config = str(tmp_path / "demo" / "connector.toml")
    status = runner.invoke(app, ["--json", "--config", config, "status"])
    assert status.exit_code == 0, status.output
    runs = json.loads(status.output.strip().splitlines()[-1])[0]["runs"]
    assert [r["status"] for r in runs] == ["succeeded", "succeeded"]
    segments = runner.invoke(app, ["--json", "--config", config, "segments"])
    assert segments.exit_code == 0, segments.output
    sizes = {line["segment"]: line["size"] for line in json.loads(segments.output.strip().splitlines()[-1])["demo"]}
    assert sizes == {k: v for k, v in sizes.items() if v >= 0} and "vip" in sizes
    buyer = summary["day"]["events"]["new_orders"][0]
    explained = runner.invoke(app, ["--json", "--config", config, "segments", "explain", buyer])
    assert explained.exit_code == 0, explained.output
    reports = json.loads(explained.output.strip().splitlines()[-1])
    assert {r["esp"] for r in reports} == {ACTIVECAMPAIGN, BREVO}
    assert all(r["next_change"] is None for r in reports)  # the day's sync already pushed everything


class _DiesAfterOnePage:
    """A source whose process is killed after the first committed page of one stream."""

    def __init__(self, inner: Any, stream: str) -> None:
        self.inner, self.name, self.stream = inner, inner.name, stream

    def _wrap(self, stream: str, pages: Any) -> Any:
        async def run() -> Any:
            seen = 0
            async for page in pages:
                if stream == self.stream and seen == 1:
                    raise _Killed
                seen += 1
                yield page
        return run()

    def iter_customers(self, since: Any) -> Any:
        return self._wrap("customers", self.inner.iter_customers(since))

    def iter_orders(self, since: Any) -> Any:
        return self._wrap("orders", self.inner.iter_orders(since))

    def iter_carts(self, since: Any) -> Any:
        return self._wrap("carts", self.inner.iter_carts(since))

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_backfill_killed_mid_pull_resumes_from_its_cursors_and_ends_like_an_uninterrupted_one(
        world: DemoWorld, tmp_path: Path) -> None:
    real = dict(world.pipeline.sources)
    world.pipeline.sources = {**real, "woo_shop": _DiesAfterOnePage(real["woo_shop"], "orders")}
    with pytest.raises(_Killed):
        await world.pipeline.run(RunOptions(kind=RunKind.BACKFILL, full=True))
    # The customers were committed with their cursor, and so was the first page of orders: kept.
    assert world.store.get_cursor("woo_shop", "customers") is not None
    assert world.store.get_cursor("woo_shop", "orders") is not None
    assert writes(world) == {ACTIVECAMPAIGN: 0, BREVO: 0}  # killed before anything was pushed
    world.pipeline.sources = real
    resumed = await world.pipeline.run(RunOptions(kind=RunKind.BACKFILL, full=True))
    assert resumed.outcome == "succeeded"
    assert resumed.streams["woo_shop.customers"].records < CUSTOMERS  # not read again from the start

    # An uninterrupted world on the same shops ends with the same contacts in both ESPs.
    clean = build_world(tmp_path / "clean", customers=CUSTOMERS, clock=ManualClock(DEMO_NOW))
    try:
        await clean.pipeline.run(RunOptions(kind=RunKind.BACKFILL, full=True))
        assert esp_emails(clean) == esp_emails(world)
        ours = {p.email: p.state_hash for p in world.store.iter_pushed(BREVO)}
        theirs = {p.email: p.state_hash for p in clean.store.iter_pushed(BREVO)}
        assert ours == theirs
    finally:
        await clean.aclose()
