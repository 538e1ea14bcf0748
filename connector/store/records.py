"""What the store hands back besides canonical records: pushed contacts, runs, quarantine rows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from connector.protocols import ContactState

__all__ = ["PushedContact", "QuarantinedRecord", "RunKind", "RunStatus", "SyncRun"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RunKind(StrEnum):
    """What a sync run did."""

    BACKFILL = "backfill"
    SYNC = "sync"
    FULL_REFRESH = "full_refresh"


class RunStatus(StrEnum):
    """Where a sync run stands. ``interrupted``: the process stopped before it could finish."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class PushedContact(_Frozen):
    """The state last confirmed by one ESP account for one person.

    ``state`` is rebuilt from its canonical JSON, so field values that JSON cannot type
    (Decimal, date, datetime) come back as the strings they were serialised to; compare
    states by ``state_hash`` / :meth:`ContactState.digest`, which are unchanged by this.
    """

    person_id: str
    email: str
    contact_id: str | None
    state_hash: str
    state: ContactState
    pushed_at: datetime


class SyncRun(_Frozen):
    """One run of a pipeline, with its record counts and API request counts."""

    id: int
    pipeline: str
    kind: RunKind
    started_at: datetime
    finished_at: datetime | None = None
    status: RunStatus
    counts: Mapping[str, int] = Field(default_factory=dict)
    requests: Mapping[str, int] = Field(default_factory=dict)
    error: str | None = None


class QuarantinedRecord(_Frozen):
    """A quarantine entry as stored: when it was first and last seen, how often, and if resolved.

    ``field`` is ``None`` when the whole record was rejected.
    """

    id: int
    entity: str
    record_id: str
    field: str | None
    reason: str
    action: str
    payload: str | None
    run_id: int | None
    first_seen: datetime
    last_seen: datetime
    occurrences: int
    resolved_at: datetime | None
