"""What the commands run: a configured pipeline opened from settings, and the reports they print.

:func:`open_pipeline` builds a :class:`~connector.pipeline.PipelineRun` from the configuration (store,
segment definitions, each shop as a Source and each ESP account as a Sink through the platform
registry). The report functions read the store only, so ``status`` and ``segments`` work while the
daemon runs, and on a demo directory after the demo's sandboxes are gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from connector.accounts import open_sink, open_source
from connector.clock import Clock
from connector.config import Settings
from connector.errors import ConfigError
from connector.http import HttpClient
from connector.pipeline import PipelineRun
from connector.segments.definitions import SegmentDefinitions, load_definitions
from connector.store import Store
from connector.store.schema import cursors, segment_history, segment_members

__all__ = ["OpenPipeline", "SegmentLine", "open_pipeline", "pipeline_names", "segment_report", "status_report"]


def pipeline_names(settings: Settings, only: str | None) -> list[str]:
    """The pipelines a command runs: ``only``, or every configured one.

    Raises:
        ConfigError: ``only`` is not configured, or no pipeline is.
    """
    if only is not None:
        if only not in settings.pipelines:
            configured = ", ".join(settings.pipelines) or "none"
            raise ConfigError(f"no pipeline {only!r} in the config; configured: {configured}")
        return [only]
    if not settings.pipelines:
        raise ConfigError("the config has no [pipelines.<name>] table: nothing to run")
    return list(settings.pipelines)


def load_pipeline_definitions(settings: Settings, name: str) -> SegmentDefinitions:
    """The segments file, narrowed to the pipeline's ``segments`` list when it names some."""
    definitions = load_definitions(settings.segments_file)
    wanted = settings.pipelines[name].segments
    if not wanted:
        return definitions
    known = {s.name for s in definitions.segments}
    if missing := [n for n in wanted if n not in known]:
        raise ConfigError(f"pipeline {name!r} names unknown segments: {', '.join(missing)}; known: {', '.join(known)}")
    return definitions.model_copy(update={"segments": tuple(s for s in definitions.segments if s.name in wanted)})


@dataclass
class OpenPipeline:
    run: PipelineRun
    closers: list[Any]

    async def aclose(self) -> None:
        for closer in self.closers:
            await closer.aclose()


def open_pipeline(settings: Settings, name: str, store: Store, clock: Clock,
                  transports: Mapping[str, httpx.AsyncBaseTransport] | None = None) -> OpenPipeline:
    """Sources and sinks of pipeline ``name`` (``transports``: per account, for sandboxes in-process)."""
    config = settings.pipelines[name]
    definitions = load_pipeline_definitions(settings, name)
    transports = transports or {}
    sources = {shop: open_source(shop, settings.shops[shop], clock=clock, transport=transports.get(shop))
               for shop in config.shops}
    sinks = {esp: open_sink(esp, settings.esps[esp], clock=clock, transport=transports.get(esp))
             for esp in config.esps}
    requests = {**sources, **sinks}

    def counters() -> dict[str, int]:
        out: dict[str, int] = {}
        for account, thing in requests.items():
            client = getattr(thing, "client", None)
            http = getattr(client, "http", None)
            total = http.stats.requests if isinstance(http, HttpClient) else getattr(client, "requests", None)
            if isinstance(total, int):
                out[account] = total
        return out

    run = PipelineRun(name=name, shops=list(config.shops), store=store, definitions=definitions, sources=sources,
                      sinks=sinks, clock=clock, timezone=config.schedule.timezone, request_counters=counters)
    return OpenPipeline(run=run, closers=[*sources.values(), *sinks.values()])


class SegmentLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    segment: str
    title: str
    rule: str
    size: int
    entered: int  # since the last run started
    left: int


def segment_report(store: Store, pipeline: str, definitions: SegmentDefinitions) -> list[SegmentLine]:
    """Each segment's size now, and how many entered and left on the day of the last run."""
    with store.engine.connect() as conn:
        sizes = dict(conn.execute(select(segment_members.c.segment, func.count()).where(
            segment_members.c.pipeline == pipeline).group_by(segment_members.c.segment)).all())
        h = segment_history.c
        last_day: date | None = conn.execute(select(func.max(h.day)).where(
            h.pipeline == pipeline, h.event.in_(["entered", "left"]))).scalar_one()
        moves: dict[tuple[str, str], int] = {}
        if last_day is not None:
            moves = {(segment, event): count for segment, event, count in conn.execute(
                select(h.segment, h.event, func.count()).where(h.pipeline == pipeline, h.day == last_day,
                                                                h.event.in_(["entered", "left"]))
                .group_by(h.segment, h.event))}
    return [SegmentLine(segment=s.name, title=s.title, rule=s.rule.source, size=int(sizes.get(s.name, 0)),
                        entered=moves.get((s.name, "entered"), 0), left=moves.get((s.name, "left"), 0))
            for s in definitions.segments]


def status_report(store: Store, settings: Settings, pipeline: str, now: datetime) -> dict[str, Any]:
    """Everything ``connector status`` shows for one pipeline, as plain data."""
    config = settings.pipelines[pipeline]
    runs = store.recent_runs(pipeline, limit=5)
    scopes = [*config.shops, f"pipeline:{pipeline}", *(f"esp:{esp}" for esp in config.esps)]
    with store.engine.connect() as conn:
        positions = [dict(row) for row in conn.execute(
            select(cursors.c.scope, cursors.c.stream, cursors.c.value, cursors.c.updated_at)
            .where(cursors.c.scope.in_(scopes)).order_by(cursors.c.scope, cursors.c.stream)).mappings()]
    succeeded = [r for r in runs if r.status.value == "succeeded"]
    last_success = succeeded[0].finished_at if succeeded else None
    interval = timedelta(minutes=config.schedule.interval_minutes)
    quarantined = store.list_quarantine(limit=20)
    return {
        "pipeline": pipeline,
        "runs": [{"id": r.id, "kind": r.kind.value, "status": r.status.value, "started_at": r.started_at,
                  "finished_at": r.finished_at, "counts": r.counts, "requests": r.requests, "error": r.error}
                 for r in runs],
        "cursors": positions,
        "last_success": last_success,
        "data_age_seconds": None if last_success is None else int((now - last_success).total_seconds()),
        "next_run_due": None if not runs else (runs[0].started_at + interval),
        "stale": last_success is None or now - last_success > 3 * interval,
        "quarantined_open": store.count_quarantine(),
        "quarantined": [{"entity": q.entity, "record_id": q.record_id, "field": q.field, "reason": q.reason,
                         "count": q.occurrences} for q in quarantined],
    }
