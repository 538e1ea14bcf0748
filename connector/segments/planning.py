"""The plan for one ESP account: every person's desired state against what was last pushed, streamed.

:func:`iter_changes` reads profiles a batch at a time (:func:`connector.store.profiles.iter_profiles`),
with each batch's segment memberships, last pushed states and the ESP's view of those contacts,
builds each desired state (:class:`~connector.segments.desired.ContactBuilder`) and yields only the
real changes (:func:`connector.plan.diff`). Nothing holds every desired state in memory, so a plan
over a million people runs in flat memory; unchanged people cost a comparison of two hashes.

:func:`build_plan` collects the changes into a :class:`~connector.protocols.Plan` with a
:class:`PlanSummary` and applies the consent-share guard (:func:`connector.consent.check_consent_share`)
against each list's size as last pushed. A plan is recomputed on the daily full refresh even when no
source data changed, because lifecycle stages, inactivity, birthdays and RFM move with the date.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator
from datetime import date, datetime
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, select

from connector.consent import DEFAULT_MAX_SHARE, DEFAULT_MIN_CHANGES, ConsentDecision, check_consent_share
from connector.models import ConsentState
from connector.plan import diff
from connector.protocols import ContactChange, ContactState, EspContact, Plan
from connector.segments.desired import ContactBuilder
from connector.segments.staging import Staging
from connector.store.esp import get_esp_contacts
from connector.store.profiles import SET_NAMES, Profile, iter_profiles
from connector.store.schema import pushed_state, segment_members

__all__ = ["PlanSummary", "PlannedContact", "build_plan", "iter_changes", "iter_planned", "list_sizes", "plan_basis",
           "summarize"]


class PlanSummary(BaseModel):
    """What a plan changes, counted: for the dry run, the CLI and the run record."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sink: str
    contacts: int = 0  # persons with a change
    creates: int = 0
    updates: int = 0
    email_changes: int = 0
    tags_added: dict[str, int] = Field(default_factory=dict)
    tags_removed: dict[str, int] = Field(default_factory=dict)
    lists_subscribed: dict[str, int] = Field(default_factory=dict)
    lists_unsubscribed: dict[str, int] = Field(default_factory=dict)
    fields_changed: dict[str, int] = Field(default_factory=dict)
    consent_changes: dict[str, int] = Field(default_factory=dict)  # new consent state -> persons


def summarize(sink: str, changes: Collection[ContactChange] | Iterator[ContactChange]) -> PlanSummary:
    """Count what ``changes`` do (one pass; works on a stream)."""
    counters: dict[str, Counter[str]] = defaultdict(Counter)
    creates = updates = emails = contacts = 0
    for change in changes:
        contacts += 1
        creates += change.create
        updates += not change.create
        emails += change.previous_email is not None
        counters["tags_added"].update(change.tags_add)
        counters["tags_removed"].update(change.tags_remove)
        counters["lists_subscribed"].update(change.lists_subscribe)
        counters["lists_unsubscribed"].update(change.lists_unsubscribe)
        counters["fields_changed"].update(change.fields.keys())
        if change.consent is not None:
            counters["consent_changes"][change.consent.value] += 1
    return PlanSummary(sink=sink, contacts=contacts, creates=creates, updates=updates, email_changes=emails,
                       **{name: dict(sorted(counter.items())) for name, counter in counters.items()})


def iter_changes(
    conn: Connection,
    pipeline: str,
    builder: ContactBuilder,
    *,
    only: Collection[str] | None = None,
) -> Iterator[ContactChange]:
    """The change of every person of ``pipeline`` (or of the ``person_id`` values in ``only``) whose
    desired state in ``builder.sink`` differs from what was last pushed there."""
    for planned in iter_planned(conn, pipeline, builder, only=only):
        if planned.change is not None:
            yield planned.change


class PlannedContact(NamedTuple):
    """One person's plan entry with everything that explains it."""

    profile: Profile
    segments: dict[str, date]  # segment -> the day the person entered it
    esp: EspContact | None
    pushed: ContactState | None
    desired: ContactState
    decision: ConsentDecision
    change: ContactChange | None


def iter_planned(
    conn: Connection, pipeline: str, builder: ContactBuilder, *, only: Collection[str] | None = None,
    full_sets: bool = False,
) -> Iterator[PlannedContact]:
    """Every person's desired state and change (``None``: unchanged), batch by batch.

    ``full_sets``: read every set-valued fact into the profiles (for explain), not only what the
    contact needs.
    """
    for batch in iter_profiles(conn, pipeline, only=only, sets=builder.sets if not full_sets else SET_NAMES):
        keys = [key for key, _ in batch]
        members = _memberships(conn, pipeline, keys)
        pushed, digests = _pushed(conn, builder.sink, [profile.person_id for _, profile in batch])
        emails = {profile.email for _, profile in batch} | {state.email for state in pushed.values()}
        esp = get_esp_contacts(conn, builder.sink, emails)
        for key, profile in batch:
            old = pushed.get(profile.person_id)
            contact = esp.get(profile.email) or (esp.get(old.email) if old is not None else None)
            segments = members.get(key, {})
            desired, decision = builder.build(profile, segments, contact, old)
            yield PlannedContact(profile, segments, contact, old, desired, decision,
                                 diff(profile.person_id, desired, old, digests.get(profile.person_id)))


def build_plan(
    conn: Connection,
    pipeline: str,
    builder: ContactBuilder,
    *,
    now: datetime,
    only: Collection[str] | None = None,
    max_share: float = DEFAULT_MAX_SHARE,
    force: bool = False,
    min_changes: int = DEFAULT_MIN_CHANGES,
) -> tuple[Plan, PlanSummary, dict[str, tuple[int, int]]]:
    """The plan for ``builder.sink``, its summary, and subscription changes per list.

    Raises:
        ConsentShareError: a list would change subscription beyond ``max_share`` (unless ``force``).
    """
    changes = tuple(iter_changes(conn, pipeline, builder, only=only))
    consent = check_consent_share(changes, list_sizes(conn, builder.sink), max_share=max_share, force=force,
                                  min_changes=min_changes)
    plan = Plan(sink=builder.sink, created_at=now, basis=plan_basis(conn, builder.sink), changes=changes)
    return plan, summarize(builder.sink, changes), consent


def list_sizes(conn: Connection, sink: str) -> dict[str, int]:
    """Contacts on each managed list of ``sink``, as last pushed (counted in SQL over the stored states)."""
    with Staging(conn) as s:
        lists = "(CAST(ps.state AS jsonb) -> 'lists')" if s.postgres else "json_extract(ps.state, '$.lists')"
        rows = s.run(f"SELECT l.value, COUNT(*) FROM pushed_state ps {s.json_elements(lists, 'l')} "  # noqa: S608
                     "WHERE ps.sink = :sink GROUP BY l.value", {"sink": sink}).all()
    return {str(name): int(count) for name, count in rows}


def plan_basis(conn: Connection, sink: str) -> str:
    """Identifies the pushed state a plan was computed against: a plan saved for later is refused once
    anything was pushed to the sink since (the count and the latest push time both move)."""
    from sqlalchemy import func

    count, latest = conn.execute(
        select(func.count(), func.max(pushed_state.c.pushed_at)).where(pushed_state.c.sink == sink)
    ).one()
    return f"{count}:{latest.isoformat() if latest else '-'}"


def _memberships(conn: Connection, pipeline: str, keys: list[int]) -> dict[int, dict[str, date]]:
    found: dict[int, dict[str, date]] = defaultdict(dict)
    m = segment_members.c
    for person, segment, since in conn.execute(
        select(m.person, m.segment, m.since).where(m.pipeline == pipeline, m.person.in_(keys))
    ):
        found[person][segment] = since
    return found


def _pushed(conn: Connection, sink: str, person_ids: list[str]) -> tuple[dict[str, ContactState], dict[str, str]]:
    """The batch's pushed states and their stored digests.

    A stored state is our own canonical JSON, validated when it was built: it is read back without
    re-validating (fields stay in their serialised form, which is what :func:`connector.plan.diff`
    compares), which is what keeps an unchanged million people cheap.
    """
    p = pushed_state.c
    rows: Any = conn.execute(select(p.person_id, p.state_hash, p.state)
                             .where(p.sink == sink, p.person_id.in_(person_ids)))
    states: dict[str, ContactState] = {}
    digests: dict[str, str] = {}
    for person_id, digest, text in rows:
        data = json.loads(text)
        states[person_id] = ContactState.model_construct(
            email=data["email"], fields=data["fields"], tags=frozenset(data["tags"]), lists=frozenset(data["lists"]),
            consent=ConsentState(data["consent"]))
        digests[person_id] = digest
    return states, digests
