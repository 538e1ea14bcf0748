"""A plan's changes as Brevo writes: import rows grouped by list set, direct upserts, list removals.

Pure functions of a change and what the sink knows (schema, the account's blocklist); no I/O.

**Routing.** Brevo's ``contacts/import`` puts *every* row on the import's ``listIds`` and needs at
least one list. So a row goes to an import only when it belongs on a non-empty set of lists it
may be on: its desired lists (plus the tag lists of a subscribed person). Rows are grouped by that
set. A contact that must not be added to its lists (blocklisted in Brevo, unsubscribing now, or
unsubscribed there from one of them) or that is on no list at all is written by one
``POST /contacts`` (``updateEnabled``) instead: 10 a second, so a bulk push stays on imports.

**Clearing.** An import clears a value only with ``emptyContactsAttributes``, which Brevo defines
by "empty fields" of the import. Rows of such an import carry the person's *whole* managed state
(``""`` for an empty value), so whichever way Brevo reads "empty", only managed attributes are
touched, and each is set to what the plan wants. Other imports carry only the changed values.

**Never**: ``emailBlacklisted: false``, ``emailBlacklist`` on an import, an attribute that is not
managed, or a list add for a contact the account has blocklisted or unsubscribed from that list;
such an add is refused and the person's result says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connector.models import ConsentState
from connector.protocols import PHONE, ContactChange, FieldValue
from connectors.brevo.names import SMS, attribute_name, encode, sms_number
from connectors.brevo.settings import BrevoSettings

__all__ = ["Direct", "ImportBatch", "Row", "Written", "chunk_rows", "import_body", "plan_row"]


@dataclass
class Row:
    """One person's write, before it is routed."""

    change: ContactChange
    attributes: dict[str, Any]
    target_lists: tuple[int, ...]  # the lists an import would put the contact on
    subscribe: tuple[int, ...]  # lists to add in a direct write
    remove: tuple[int, ...]  # lists to take the contact off
    blocklist: bool  # set emailBlacklisted (the person unsubscribed at the shop)
    direct: bool
    clears: bool
    refused: list[str] = field(default_factory=list)  # reasons the plan cannot be fully applied
    notes: list[str] = field(default_factory=list)  # what was left out, the rest applied (e.g. a phone)


@dataclass(frozen=True)
class Written:
    """A row as sent: the values to read back to confirm it."""

    person_id: str
    email: str
    attributes: Mapping[str, Any]
    lists: tuple[int, ...]


@dataclass
class ImportBatch:
    list_ids: tuple[int, ...]
    clears: bool
    rows: list[Row]
    body: bytes


@dataclass
class Direct:
    row: Row
    body: dict[str, Any]


def _attributes(row_fields: Mapping[str, FieldValue], settings: BrevoSettings, notes: list[str]) -> dict[str, Any]:
    special = {"first_name": settings.first_name_attribute, "last_name": settings.last_name_attribute}
    out: dict[str, Any] = {}
    for name, value in row_fields.items():
        if name == PHONE:
            number, reason = sms_number(value)
            if reason:
                notes.append(f"phone left out: {reason}")
            elif number is not None or value is None:
                out[SMS] = number or ""
            continue
        out[special.get(name) or attribute_name(name)] = encode(value)
    return out


def plan_row(
    change: ContactChange,
    *,
    settings: BrevoSettings,
    lists: Mapping[str, int],
    blocklisted: bool,
    unsubscribed: frozenset[int],
) -> Row:
    """Route one change (see the module docstring).

    Args:
        lists: managed list name → Brevo list id.
        blocklisted: the account has the contact (by ``change.email`` or its previous email) blocklisted.
        unsubscribed: list ids the contact unsubscribed from in Brevo.
    """
    desired, refused, notes = change.desired, [], []
    blocklist = change.consent is ConsentState.UNSUBSCRIBED
    tag_lists = {settings.tag_lists[t] for t in desired.tags if t in settings.tag_lists}
    if desired.consent is not ConsentState.SUBSCRIBED:
        tag_lists = set()
    wanted_names = set(desired.lists) | tag_lists
    missing = sorted(n for n in wanted_names if n not in lists)
    if missing:
        refused.append(f"lists not provisioned in Brevo: {', '.join(missing)}")
    target = {lists[n] for n in wanted_names if n in lists}
    added_tags = {settings.tag_lists[t] for t in change.tags_add if t in settings.tag_lists} & tag_lists
    subscribe = {lists[n] for n in (set(change.lists_subscribe) | added_tags) if n in lists}
    no_adds = blocklisted or blocklist
    forbidden = target if no_adds else target & unsubscribed
    if subscribe & forbidden:
        why = "blocklisted in Brevo" if no_adds else "unsubscribed from it in Brevo"
        refused.append(f"not added to {len(subscribe & forbidden)} list(s): the contact is {why}")
    removed_tags = {settings.tag_lists[t] for t in change.tags_remove if t in settings.tag_lists}
    remove_names = (set(change.lists_unsubscribe) | removed_tags) - wanted_names
    remove = tuple(sorted(lists[n] for n in remove_names if n in lists))
    clears = any(v is None or v == () for v in change.fields.values()) or (
        bool(change.tags_remove) and not desired.tags)
    source = dict(desired.fields) if clears else dict(change.fields)
    attributes = _attributes(source, settings, notes)
    if change.tags_add or change.tags_remove or (clears and desired.tags):
        attributes[settings.tags_attribute] = sorted(desired.tags)
    direct = no_adds or not target or bool(target & unsubscribed)
    return Row(change, attributes, tuple(sorted(target - forbidden)), tuple(sorted(subscribe - forbidden)), remove,
               blocklist, direct, clears, refused, notes)


def direct_body(row: Row) -> dict[str, Any]:
    """The ``POST /contacts`` body (``updateEnabled`` is added by the client)."""
    body: dict[str, Any] = {"email": row.change.email}
    if row.attributes:
        body["attributes"] = row.attributes
    if row.blocklist:
        body["emailBlacklisted"] = True
    if row.subscribe:
        body["listIds"] = list(row.subscribe)
    return body


def import_item(row: Row) -> dict[str, Any]:
    item: dict[str, Any] = {"email": row.change.email}
    if row.attributes:
        item["attributes"] = row.attributes
    return item


def import_body(items: Sequence[bytes], list_ids: Sequence[int], clears: bool, notify_url: str | None) -> bytes:
    """The ``contacts/import`` body around already-encoded ``jsonBody`` items."""
    head: dict[str, Any] = {"listIds": list(list_ids), "updateExistingContacts": True, "disableNotification": True}
    if clears:
        head["emptyContactsAttributes"] = True
    if notify_url:
        head["notifyUrl"] = notify_url
    opening = json.dumps(head, separators=(",", ":"))[:-1].encode()
    return opening + b',"jsonBody":[' + b",".join(items) + b"]}"


def chunk_rows(rows: Sequence[Row], *, max_bytes: int, notify_url: str | None) -> Iterator[ImportBatch]:
    """Import bodies of at most ``max_bytes``, one list set and clearing mode each, in plan order."""
    groups: dict[tuple[tuple[int, ...], bool], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.target_lists, row.clears), []).append(row)
    for (list_ids, clears), members in groups.items():
        overhead = len(import_body([], list_ids, clears, notify_url))
        batch: list[Row] = []
        items: list[bytes] = []
        size = overhead
        for row in members:
            item = json.dumps(import_item(row), separators=(",", ":"), ensure_ascii=False).encode()
            if items and size + len(item) + 1 > max_bytes:
                yield ImportBatch(list_ids, clears, batch, import_body(items, list_ids, clears, notify_url))
                batch, items, size = [], [], overhead
            batch.append(row)
            items.append(item)
            size += len(item) + 1
        if items:
            yield ImportBatch(list_ids, clears, batch, import_body(items, list_ids, clears, notify_url))


def written(row: Row) -> Written:
    return Written(row.change.person_id, row.change.email, row.attributes, row.target_lists)
