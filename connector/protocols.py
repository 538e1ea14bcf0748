"""The contracts between the core and the platforms.

- A :class:`Source` yields canonical records a page at a time, each page with the cursor that
  may be saved once that page is committed to the store.
- A :class:`Sink` provisions what it manages (``ensure_schema``), reports the ESP's own state
  that the consent guard must respect (``read_state``), and applies a :class:`Plan`, answering
  per person with a :class:`PushResult`.

The plan model is what the segmentation core produces and sinks consume: per person, the
contact to create or update, tags to add and remove, lists to subscribe and unsubscribe, field
values, consent, and an email change. These contracts are deliberately small; the issues that
use them refine them.

What the names in a plan mean to a sink (every sink honours these):

- ``ContactState.fields`` keys are the managed fields' names as the marketer sees them in the ESP
  (e.g. ``"Total spent"``, ``"Lifecycle stage"``), typed by :class:`SchemaSpec`. Three reserved keys
  are the ESP's native contact properties instead of custom fields: :data:`FIRST_NAME`,
  :data:`LAST_NAME` and :data:`PHONE` (E.164). A value of ``None`` clears the field; a
  ``multiselect`` value is a tuple of option strings.
- ``tags`` are managed tag names (``"Segment – Champions"``). An ESP without contact tags (Brevo)
  holds them as a managed multiple-choice attribute and, where configured, as lists.
- ``lists`` are the managed lists the contact is *subscribed* to; the consent guard has already
  left out every list the person may not be on. ``lists_unsubscribe`` means "take the contact off
  that list" (ActiveCampaign: list status 2; Brevo: unlink).
- ``consent`` ``unsubscribed`` means the person unsubscribed at the shop: the sink unsubscribes the
  contact from marketing (ActiveCampaign: status 2 on our lists; Brevo: ``emailBlacklisted``).
  No sink ever clears an ESP-side unsubscribe or blocklist, and a sink refuses (as a failed
  push with a reason) a subscribe to a list its own ESP state says the contact left.
- ``previous_email`` set: the sink finds the existing contact by that email (or by the contact id it
  reported before) and changes its email, never creating a second contact.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from connector.errors import RecordError
from connector.models import Cart, ConsentState, Customer, Email, FieldIssue, Order, UtcDatetime

__all__ = [
    "FIRST_NAME",
    "LAST_NAME",
    "PHONE",
    "STANDARD_FIELDS",
    "ContactChange",
    "ContactState",
    "EspContact",
    "FieldValue",
    "field_json",
    "iter_stream",
    "Page",
    "Plan",
    "PushResult",
    "PushStatus",
    "QuarantineEntry",
    "SchemaSpec",
    "Sink",
    "Source",
    "Stream",
]

RecordT = TypeVar("RecordT", Customer, Order, Cart)

# Reserved ``ContactState.fields`` keys: the ESP's native contact properties, not custom fields.
FIRST_NAME = "first_name"
LAST_NAME = "last_name"
PHONE = "phone"
STANDARD_FIELDS = frozenset({FIRST_NAME, LAST_NAME, PHONE})
FieldValue = str | int | Decimal | bool | date | datetime | tuple[str, ...] | None


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Stream(StrEnum):
    """What a source can be asked for."""

    CUSTOMERS = "customers"
    ORDERS = "orders"
    CARTS = "carts"


# --------------------------------------------------------------------------- sources


class QuarantineEntry(_Frozen):
    """A record, or one field of it, that was set aside, and why.

    ``action`` is ``rejected`` when the whole record could not be used, ``field_dropped`` when
    only ``field`` was removed and the record went on.
    """

    entity: str
    record_id: str
    field: str | None
    reason: str
    action: str = "rejected"
    payload: str | None = None  # the raw record as JSON, so nothing is lost and it can be replayed

    @classmethod
    def from_error(cls, error: RecordError, payload: str | None = None) -> QuarantineEntry:
        return cls(entity=error.entity, record_id=error.record_id, field=error.field, reason=error.reason,
                   payload=payload)

    @classmethod
    def from_issue(cls, entity: str, record_id: str, issue: FieldIssue) -> QuarantineEntry:
        return cls(entity=entity, record_id=record_id, field=issue.field, reason=issue.reason,
                   action="field_dropped")


class Page(_Frozen, Generic[RecordT]):
    """One page of a stream: good records, set-aside ones, and where the stream stands after it.

    ``customers`` (rarely used) are people the source learned about from the page's records,
    such as guest buyers on an orders page; they are committed together with the page.

    ``cursor`` is opaque to the core. It is saved only after ``records`` and ``quarantined`` are
    committed to the store, so a crash replays the page rather than skipping it.
    """

    stream: Stream
    records: tuple[RecordT, ...] = ()
    quarantined: tuple[QuarantineEntry, ...] = ()
    cursor: str | None = None
    # Customers the source derived from this page's records, stored with them in the same commit:
    # e.g. a WooCommerce guest order makes its buyer a customer (keyed by billing email).
    customers: tuple[Customer, ...] = ()


@runtime_checkable
class Source(Protocol):
    """A shop platform account that yields canonical records."""

    name: str  # the shop's name in config, also the ``<shop>`` part of ids

    def iter_customers(self, since: str | None) -> AsyncIterator[Page[Customer]]:
        """Customers changed since cursor ``since`` (``None``: all), ascending by change time."""
        ...

    def iter_orders(self, since: str | None) -> AsyncIterator[Page[Order]]:
        """Orders changed since cursor ``since`` (``None``: all), ascending by change time."""
        ...

    def iter_carts(self, since: str | None) -> AsyncIterator[Page[Cart]]:
        """Abandoned checkouts changed since cursor ``since`` (``None``: all)."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


def iter_stream(source: Source, stream: Stream, since: str | None) -> AsyncIterator[Page[Any]]:
    """``source.iter_<stream>(since)``: one stream of a source chosen by name (pipelines, benches)."""
    readers = {Stream.CUSTOMERS: source.iter_customers, Stream.ORDERS: source.iter_orders,
               Stream.CARTS: source.iter_carts}
    return readers[Stream(stream)](since)  # type: ignore[return-value]


# --------------------------------------------------------------------------- plan


class ContactState(_Frozen):
    """The state a person's contact should have in one ESP account (or had when last pushed).

    Only *managed* tags and fields appear here: what a marketer added by hand in the ESP is
    never part of the state, so it is never removed or overwritten.
    """

    email: Email
    fields: Mapping[str, FieldValue] = Field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    lists: frozenset[str] = frozenset()
    consent: ConsentState = ConsentState.NOT_SUBSCRIBED

    @field_serializer("fields", when_used="json")
    def _fields_json(self, fields: Mapping[str, FieldValue]) -> dict[str, object]:
        return _typed_json(fields)

    def canonical_json(self) -> str:
        """A stable serialisation: same state, same text, in every process and version."""
        return json.dumps(
            {
                "email": self.email,
                "fields": {k: field_json(v) for k, v in sorted(self.fields.items())},
                "tags": sorted(self.tags),
                "lists": sorted(self.lists),
                "consent": self.consent.value,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )

    def digest(self) -> str:
        """SHA-256 of :meth:`canonical_json`; Python's ``hash()`` is not stable across processes."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()


def _typed_json(fields: Mapping[str, FieldValue]) -> dict[str, object]:
    """Field values for a JSON document that is read back as a model (a saved plan): amounts as JSON
    numbers, so they come back as numbers and not as text."""
    return {k: (float(v) if isinstance(v, Decimal) else v) for k, v in fields.items()}


def field_json(value: FieldValue) -> object:
    """A field value as it is serialised in a state (and so as a stored pushed state reads back):
    compare these, not the Python values, since ``Decimal("5")`` comes back as ``"5"``."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"  # 180.0000 and 180 are one amount
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


class ContactChange(_Frozen):
    """What to change for one person in one ESP account. Empty sets mean "leave alone".

    ``person_id`` is the core's stable key for the person; ``previous_email`` is set when the
    shop changed the person's email, so the sink updates that contact instead of creating a
    second one. ``consent`` is set only when the subscription state must change.
    """

    person_id: str
    email: Email
    previous_email: Email | None = None
    create: bool = False
    fields: Mapping[str, FieldValue] = Field(default_factory=dict)
    tags_add: frozenset[str] = frozenset()
    tags_remove: frozenset[str] = frozenset()
    lists_subscribe: frozenset[str] = frozenset()
    lists_unsubscribe: frozenset[str] = frozenset()
    consent: ConsentState | None = None
    desired: ContactState  # the full state once applied; recorded as pushed when confirmed

    @field_serializer("fields", when_used="json")
    def _fields_json(self, fields: Mapping[str, FieldValue]) -> dict[str, object]:
        return _typed_json(fields)

    @model_validator(mode="after")
    def _consistent(self) -> ContactChange:
        if both := self.tags_add & self.tags_remove:
            raise ValueError(f"tags both added and removed: {sorted(both)}")
        if both := self.lists_subscribe & self.lists_unsubscribe:
            raise ValueError(f"lists both subscribed and unsubscribed: {sorted(both)}")
        if self.desired.email != self.email:
            raise ValueError("desired.email must be the change's email")
        return self

    @property
    def is_empty(self) -> bool:
        return not (
            self.create or self.previous_email or self.fields or self.tags_add or self.tags_remove
            or self.lists_subscribe or self.lists_unsubscribe or self.consent is not None
        )


class Plan(_Frozen):
    """Every change one sink must make, computed at ``created_at`` from store state ``basis``.

    ``basis`` identifies the pushed state the plan was computed against, so a saved plan can be
    refused once it is stale.
    """

    sink: str
    created_at: UtcDatetime
    basis: str = ""
    changes: tuple[ContactChange, ...] = ()


class SchemaSpec(_Frozen):
    """What a sink must provision before applying plans: the managed lists, tags and fields.

    ``fields`` maps a managed field name to its type: ``text``, ``number``, ``date``,
    ``dropdown`` or ``multiselect``; ``options`` gives the choices of the last two.
    """

    lists: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    fields: Mapping[str, str] = Field(default_factory=dict)
    options: Mapping[str, tuple[str, ...]] = Field(default_factory=dict)


# --------------------------------------------------------------------------- sinks


class PushStatus(StrEnum):
    CONFIRMED = "confirmed"
    FAILED = "failed"


class PushResult(_Frozen):
    """What the ESP confirmed for one person. Only confirmed changes are recorded as pushed."""

    person_id: str
    status: PushStatus
    contact_id: str | None = None  # the ESP's own id for the contact
    reason: str | None = None

    @model_validator(mode="after")
    def _reason_on_failure(self) -> PushResult:
        if self.status is PushStatus.FAILED and not self.reason:
            raise ValueError("a failed push needs a reason")
        return self


class EspContact(_Frozen):
    """The ESP's own view of a contact, as far as the consent guard and the diff need it."""

    email: Email
    contact_id: str | None = None
    blocklisted: bool = False  # globally unsubscribed or blocked for marketing email
    unsubscribed_lists: frozenset[str] = frozenset()
    subscribed_lists: frozenset[str] = frozenset()
    managed_tags: frozenset[str] = frozenset()
    updated_at: UtcDatetime | None = None


@runtime_checkable
class Sink(Protocol):
    """An ESP account that contacts are pushed to."""

    name: str

    async def ensure_schema(self, spec: SchemaSpec) -> None:
        """Create the managed lists, tags and fields that are missing; touch nothing else."""
        ...

    def read_state(self, since: datetime | None) -> AsyncIterator[EspContact]:
        """Contacts changed in the ESP since ``since`` (``None``: all the sink manages)."""
        ...

    def apply(self, plan: Plan) -> AsyncIterator[Sequence[PushResult]]:
        """Apply ``plan``; yield results batch by batch, one per person in the plan."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
