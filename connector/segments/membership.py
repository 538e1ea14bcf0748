"""Who is in each segment, since when, and every entry and exit: set-based, in the store.

:func:`refresh_memberships` evaluates each segment's rule as SQL (``INSERT ... SELECT`` into a
temporary table keyed by person), compares it with ``segment_members`` and records the
difference: persons who entered get a row with ``since = today`` and an ``entered`` history row,
persons who left lose their row and get a ``left`` history row. The first evaluation of a segment
is a baseline, not a transition: its members get ``since = BASELINE`` and a ``baseline`` history
row, so a first sync does not fire "entered" automations for a whole customer base. The plan reads ``since`` for
transition tags ("entered At risk" as a ``Trigger –`` tag that starts an automation), and
``explain`` reads the history.

Incremental: with ``persons`` given, only those persons are re-evaluated; everyone else keeps
their memberships (time-based segments move for everyone at the daily full refresh).
Segments no longer defined are dropped from ``segment_members`` (their history stays).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, column, delete, insert, select, table

from connector.segments.columns import store_columns
from connector.segments.definitions import Segment
from connector.segments.sql import compile_rule
from connector.segments.staging import Staging
from connector.store.schema import persons, profile_metrics, segment_members

__all__ = ["BASELINE", "SegmentCount", "refresh_memberships"]

BASELINE = date(1970, 1, 1)  # ``since`` of a member who was already in when the segment was first evaluated

# The temporary tables below, as SQLAlchemy sees them (created by Staging.temp).
_NEW = table("_sm_new", column("person"))
_SCOPE = table("_sm_scope", column("person"))


class SegmentCount(BaseModel):
    """One segment after a refresh: its size, and how many entered and left in this run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    segment: str
    size: int
    entered: int
    left: int


def refresh_memberships(
    conn: Connection,
    pipeline: str,
    segments: Sequence[Segment],
    *,
    today: date,
    persons_only: Collection[str] | None = None,
) -> list[SegmentCount]:
    """Re-evaluate ``segments`` for the pipeline (or only ``persons_only``); record entries and exits."""
    columns = store_columns(today)
    counts: list[SegmentCount] = []
    m = segment_members.c
    with Staging(conn) as s:
        scoped = persons_only is not None
        if scoped:
            s.temp("_sm_ids", "person_id TEXT PRIMARY KEY")
            s.fill("_sm_ids", ["person_id"], [(pid,) for pid in sorted(set(persons_only or ()))])
            s.temp("_sm_scope", "person INTEGER PRIMARY KEY")
            s.run("INSERT INTO _sm_scope (person) SELECT p.id FROM _sm_ids i JOIN persons p "
                  "ON p.pipeline = :p AND p.person_id = i.person_id", {"p": pipeline})
        s.temp("_sm_new", "person INTEGER PRIMARY KEY")
        names = [segment.name for segment in segments]
        conn.execute(delete(segment_members).where(m.pipeline == pipeline, m.segment.not_in(names or [""])))
        for segment in segments:
            s.run("DELETE FROM _sm_new")
            condition = compile_rule(segment.rule, columns, today=today)
            chosen = (
                select(profile_metrics.c.person)
                .select_from(profile_metrics.join(persons, persons.c.id == profile_metrics.c.person))
                .where(profile_metrics.c.pipeline == pipeline, condition)
            )
            if scoped:
                chosen = chosen.where(profile_metrics.c.person.in_(select(_SCOPE.c.person)))
            conn.execute(insert(_NEW).from_select(["person"], chosen))
            params = {"p": pipeline, "s": segment.name, "today": today}
            # A segment evaluated for the first time has no transitions: its members are a baseline
            # (since BASELINE), so a first sync does not fire "entered" automations for everyone.
            first = not s.count("SELECT COUNT(*) FROM (SELECT 1 FROM segment_history WHERE pipeline = :p "
                                "AND segment = :s LIMIT 1) x", params)
            params["event"] = "baseline" if first else "entered"
            params["since"] = BASELINE if first else today
            if first:  # marks the segment as evaluated, even while nobody is in it (person 0 is nobody)
                s.run("INSERT INTO segment_history (pipeline, segment, person, event, day) "
                      "VALUES (:p, :s, 0, 'evaluated', :today)", params)
            in_scope = " AND x.person IN (SELECT person FROM _sm_scope)" if scoped else ""
            entered = s.run(
                "INSERT INTO segment_history (pipeline, segment, person, event, day) "
                "SELECT :p, :s, n.person, :event, :today FROM _sm_new n WHERE NOT EXISTS (SELECT 1 FROM "
                "segment_members x WHERE x.pipeline = :p AND x.segment = :s AND x.person = n.person)", params,
            ).rowcount
            left = s.run(
                "INSERT INTO segment_history (pipeline, segment, person, event, day) "  # noqa: S608
                "SELECT :p, :s, x.person, 'left', :today FROM segment_members x WHERE x.pipeline = :p "
                f"AND x.segment = :s{in_scope} "
                "AND NOT EXISTS (SELECT 1 FROM _sm_new n WHERE n.person = x.person)", params,
            ).rowcount
            if left:
                s.run("DELETE FROM segment_members WHERE pipeline = :p AND segment = :s AND person IN (SELECT x.person "  # noqa: S608
                      "FROM segment_members x WHERE x.pipeline = :p AND x.segment = :s"
                      f"{in_scope} AND NOT EXISTS (SELECT 1 FROM _sm_new n WHERE n.person = x.person))", params)
            if entered:
                s.run("INSERT INTO segment_members (pipeline, segment, person, since) "
                      "SELECT :p, :s, n.person, :since FROM _sm_new n WHERE NOT EXISTS (SELECT 1 FROM "
                      "segment_members x WHERE x.pipeline = :p AND x.segment = :s AND x.person = n.person)", params)
            size = s.count("SELECT COUNT(*) FROM segment_members WHERE pipeline = :p AND segment = :s", params)
            counts.append(SegmentCount(segment=segment.name, size=size, entered=entered, left=left))
    return counts
