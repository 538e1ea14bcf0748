"""Everything about one person for ``connector segments explain EMAIL``: metrics, segments and why,
the consent decision with its provenance, the segment history, and what the next sync will change.

It reuses the plan's own code path (:func:`connector.segments.planning.iter_planned`) and the rule
explanation (:func:`connector.segments.why.explain_person`), so what it says is what the sync does.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, select

from connector.segments.desired import ContactBuilder
from connector.segments.planning import PlannedContact, iter_planned
from connector.segments.why import SegmentReason, explain_person
from connector.store.profiles import find_person_id
from connector.store.schema import persons, segment_history

__all__ = ["ContactReport", "HistoryEvent", "explain_contact"]


class HistoryEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    segment: str
    event: str  # baseline | entered | left
    day: date


class ContactReport(BaseModel):
    """One person's explanation in one ESP account."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    planned: PlannedContact
    reasons: tuple[SegmentReason, ...]
    history: tuple[HistoryEvent, ...]


def explain_contact(conn: Connection, pipeline: str, builder: ContactBuilder, email: str) -> ContactReport | None:
    """The report for the person whose current email is ``email`` (normalized), or ``None``."""
    person_id = find_person_id(conn, pipeline, email.strip().lower())
    if person_id is None:
        return None
    planned = next(iter(iter_planned(conn, pipeline, builder, only=[person_id], full_sets=True)), None)
    if planned is None:
        return None
    segments = [(segment.name, segment.rule) for segment in builder.definitions.segments]
    reasons = explain_person(planned.profile, segments, builder.today)
    h = segment_history.c
    key = select(persons.c.id).where(persons.c.pipeline == pipeline, persons.c.person_id == person_id)
    history = tuple(
        HistoryEvent(segment=segment, event=event, day=day)
        for segment, event, day in conn.execute(
            select(h.segment, h.event, h.day).where(h.pipeline == pipeline, h.person == key.scalar_subquery())
            .order_by(h.day, h.id)
        )
    )
    return ContactReport(planned=planned, reasons=tuple(reasons), history=history)
