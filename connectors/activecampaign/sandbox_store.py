"""The ActiveCampaign sandbox's account: contacts, lists, tags, custom fields and their links.

One :class:`AcAccount` holds everything an account has, in plain dataclasses keyed by integer id
(ActiveCampaign renders ids as strings; :mod:`connectors.activecampaign.sandbox_render` does
that). Every write goes through a method here, so the rules live in one place:

* a contact's list status moves 2 (unsubscribed) -> 1 (subscribed) only when a request
  explicitly asks for status 1; every such move is recorded in :attr:`AcAccount.resubscriptions`,
  so a test can assert that a sink never re-subscribed anyone;
* a change to a contact, its lists, tags or field values moves its ``udate`` (what
  ``filters[updated_after]`` selects on);
* the account state round-trips through :meth:`AcAccount.dump` / :func:`restore_account`, so a
  served sandbox survives a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from connector.clock import Clock

__all__ = [
    "FIELD_TYPES",
    "SUBSCRIBED",
    "UNSUBSCRIBED",
    "AcAccount",
    "AcContact",
    "AcContactList",
    "AcContactTag",
    "AcField",
    "AcFieldOption",
    "AcFieldRel",
    "AcFieldValue",
    "AcList",
    "AcTag",
    "Resubscription",
    "restore_account",
]

SUBSCRIBED = 1
UNSUBSCRIBED = 2
FIELD_TYPES = frozenset({"text", "textarea", "date", "datetime", "dropdown", "listbox", "radio", "checkbox", "hidden"})


@dataclass
class AcContact:
    id: int
    email: str
    first_name: str
    last_name: str
    phone: str
    cdate: datetime
    udate: datetime


@dataclass
class AcList:
    id: int
    name: str
    stringid: str
    sender_url: str
    sender_reminder: str
    cdate: datetime


@dataclass
class AcTag:
    id: int
    tag: str
    tag_type: str
    description: str
    cdate: datetime


@dataclass
class AcContactList:
    id: int
    contact: int
    list: int
    status: int
    sdate: datetime
    udate: datetime


@dataclass
class AcContactTag:
    id: int
    contact: int
    tag: int
    cdate: datetime


@dataclass
class AcField:
    id: int
    title: str
    type: str
    perstag: str
    descript: str
    ordernum: int
    cdate: datetime


@dataclass
class AcFieldOption:
    id: int
    field: int
    value: str
    label: str
    orderid: int
    cdate: datetime


@dataclass
class AcFieldRel:
    id: int
    field: int
    relid: int
    cdate: datetime


@dataclass
class AcFieldValue:
    id: int
    contact: int
    field: int
    value: str
    cdate: datetime
    udate: datetime


@dataclass
class Resubscription:
    """A contact's status on a list went from 2 (unsubscribed) back to 1, and through what request."""

    contact: int
    list: int
    via: str
    at: datetime


_TABLES: dict[str, type] = {
    "contacts": AcContact,
    "lists": AcList,
    "tags": AcTag,
    "contact_lists": AcContactList,
    "contact_tags": AcContactTag,
    "fields": AcField,
    "field_options": AcFieldOption,
    "field_rels": AcFieldRel,
    "field_values": AcFieldValue,
}


@dataclass
class AcAccount:
    """Everything one ActiveCampaign account holds (in memory; thread-safe through :attr:`lock`)."""

    clock: Clock
    contacts: dict[int, AcContact] = field(default_factory=dict)
    lists: dict[int, AcList] = field(default_factory=dict)
    tags: dict[int, AcTag] = field(default_factory=dict)
    contact_lists: dict[int, AcContactList] = field(default_factory=dict)
    contact_tags: dict[int, AcContactTag] = field(default_factory=dict)
    fields: dict[int, AcField] = field(default_factory=dict)
    field_options: dict[int, AcFieldOption] = field(default_factory=dict)
    field_rels: dict[int, AcFieldRel] = field(default_factory=dict)
    field_values: dict[int, AcFieldValue] = field(default_factory=dict)
    exclusions: set[str] = field(default_factory=set)  # the account's email exclusion list (lower case)
    resubscriptions: list[Resubscription] = field(default_factory=list)
    next_id: int = 1
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    # Indexes, rebuilt on restore.
    _by_email: dict[str, int] = field(default_factory=dict, repr=False)
    _memberships: dict[tuple[int, int], int] = field(default_factory=dict, repr=False)
    _tagged: dict[tuple[int, int], int] = field(default_factory=dict, repr=False)
    _values: dict[tuple[int, int], int] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ ids and time
    def new_id(self) -> int:
        """A fresh id (one sequence for every object kind; ActiveCampaign's are per table, which no client sees)."""
        value = self.next_id
        self.next_id += 1
        return value

    def now(self) -> datetime:
        return self.clock.now()

    def touch(self, contact_id: int) -> None:
        """The contact changed now (its ``udate`` moves)."""
        contact = self.contacts.get(contact_id)
        if contact is not None:
            contact.udate = self.now()

    # ------------------------------------------------------------------ contacts
    def contact_by_email(self, email: str) -> AcContact | None:
        contact_id = self._by_email.get(email.strip().lower())
        return self.contacts.get(contact_id) if contact_id is not None else None

    def upsert_contact(self, email: str, *, first_name: str | None = None, last_name: str | None = None,
                       phone: str | None = None) -> AcContact:
        """The contact with ``email``, created if new; given names and phone overwrite (None: keep)."""
        contact = self.contact_by_email(email)
        now = self.now()
        if contact is None:
            contact = AcContact(self.new_id(), email.strip(), "", "", "", now, now)
            self.contacts[contact.id] = contact
            self._by_email[contact.email.lower()] = contact.id
        for attribute, value in (("first_name", first_name), ("last_name", last_name), ("phone", phone)):
            if value is not None:
                setattr(contact, attribute, value)
        contact.udate = now
        return contact

    def change_email(self, contact: AcContact, email: str) -> None:
        """Give ``contact`` a new email (the caller checked that no other contact has it)."""
        self._by_email.pop(contact.email.lower(), None)
        contact.email = email.strip()
        self._by_email[contact.email.lower()] = contact.id
        contact.udate = self.now()

    def delete_contact(self, contact_id: int) -> None:
        contact = self.contacts.pop(contact_id)
        self._by_email.pop(contact.email.lower(), None)
        for table, index in ((self.contact_lists, self._memberships), (self.contact_tags, self._tagged),
                             (self.field_values, self._values)):
            for key in [k for k, v in table.items() if v.contact == contact_id]:
                row = table.pop(key)
                index.pop((row.contact, _second(row)), None)

    # ------------------------------------------------------------------ lists
    def list_status(self, contact_id: int, list_id: int) -> int | None:
        membership = self._memberships.get((contact_id, list_id))
        return self.contact_lists[membership].status if membership is not None else None

    def set_list_status(self, contact_id: int, list_id: int, status: int, *, via: str) -> AcContactList:
        """Set a contact's status on a list; a move from 2 to 1 is recorded as a re-subscription."""
        now = self.now()
        key = (contact_id, list_id)
        membership_id = self._memberships.get(key)
        if membership_id is None:
            membership = AcContactList(self.new_id(), contact_id, list_id, status, now, now)
            self.contact_lists[membership.id] = membership
            self._memberships[key] = membership.id
        else:
            membership = self.contact_lists[membership_id]
            if membership.status == UNSUBSCRIBED and status == SUBSCRIBED:
                self.resubscriptions.append(Resubscription(contact_id, list_id, via, now))
            if membership.status != status:
                membership.status = status
                membership.udate = now
        self.touch(contact_id)
        return membership

    def memberships_of(self, contact_id: int) -> list[AcContactList]:
        return [m for m in self.contact_lists.values() if m.contact == contact_id]

    # ------------------------------------------------------------------ tags
    def tag_by_name(self, name: str) -> AcTag | None:
        wanted = name.strip().lower()
        return next((t for t in self.tags.values() if t.tag.lower() == wanted), None)

    def add_tag(self, name: str, *, tag_type: str = "contact", description: str = "") -> AcTag:
        tag = AcTag(self.new_id(), name.strip(), tag_type, description, self.now())
        self.tags[tag.id] = tag
        return tag

    def tag_contact(self, contact_id: int, tag_id: int) -> AcContactTag:
        """Put a tag on a contact (the existing link when it already has it, as ActiveCampaign answers)."""
        existing = self._tagged.get((contact_id, tag_id))
        if existing is not None:
            return self.contact_tags[existing]
        link = AcContactTag(self.new_id(), contact_id, tag_id, self.now())
        self.contact_tags[link.id] = link
        self._tagged[(contact_id, tag_id)] = link.id
        self.touch(contact_id)
        return link

    def untag(self, contact_tag_id: int) -> None:
        link = self.contact_tags.pop(contact_tag_id)
        self._tagged.pop((link.contact, link.tag), None)
        self.touch(link.contact)

    def tags_of(self, contact_id: int) -> list[AcContactTag]:
        return [t for t in self.contact_tags.values() if t.contact == contact_id]

    # ------------------------------------------------------------------ fields
    def set_field_value(self, contact_id: int, field_id: int, value: str) -> AcFieldValue:
        now = self.now()
        existing = self._values.get((contact_id, field_id))
        if existing is None:
            row = AcFieldValue(self.new_id(), contact_id, field_id, value, now, now)
            self.field_values[row.id] = row
            self._values[(contact_id, field_id)] = row.id
        else:
            row = self.field_values[existing]
            row.value, row.udate = value, now
        self.touch(contact_id)
        return row

    def values_of(self, contact_id: int) -> list[AcFieldValue]:
        return [v for v in self.field_values.values() if v.contact == contact_id]

    def value_of(self, contact_id: int, field_id: int) -> str | None:
        row_id = self._values.get((contact_id, field_id))
        return self.field_values[row_id].value if row_id is not None else None

    def options_of(self, field_id: int) -> list[AcFieldOption]:
        return [o for o in self.field_options.values() if o.field == field_id]

    def rels_of(self, field_id: int) -> list[AcFieldRel]:
        return [r for r in self.field_rels.values() if r.field == field_id]

    # ------------------------------------------------------------------ persistence
    def dump(self) -> dict[str, Any]:
        """The account as JSON-able data (datetimes as ISO strings)."""
        with self.lock:
            out: dict[str, Any] = {name: [_row(r) for r in getattr(self, name).values()] for name in _TABLES}
            out["exclusions"] = sorted(self.exclusions)
            out["resubscriptions"] = [_row(r) for r in self.resubscriptions]
            out["next_id"] = self.next_id
            return out

    def reindex(self) -> None:
        self._by_email = {c.email.lower(): c.id for c in self.contacts.values()}
        self._memberships = {(m.contact, m.list): m.id for m in self.contact_lists.values()}
        self._tagged = {(t.contact, t.tag): t.id for t in self.contact_tags.values()}
        self._values = {(v.contact, v.field): v.id for v in self.field_values.values()}


def _second(row: Any) -> int:
    """The non-contact key of a link row (list, tag or field)."""
    for name in ("list", "tag", "field"):
        if hasattr(row, name):
            return int(getattr(row, name))
    raise TypeError(type(row).__name__)


def _row(value: Any) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(value).items()}


def _load(kind: type, data: Mapping[str, Any]) -> Any:
    values = {}
    for spec in fields(kind):
        raw = data[spec.name]
        values[spec.name] = datetime.fromisoformat(raw) if spec.type == "datetime" else raw
    return kind(**values)


def restore_account(saved: Mapping[str, Any] | None, clock: Clock) -> AcAccount:
    """An account from :meth:`AcAccount.dump` output (None: a new, empty account).

    Raises:
        ValueError: ``saved`` is not an ActiveCampaign sandbox state.
    """
    account = AcAccount(clock)
    if not saved:
        return account
    try:
        for name, kind in _TABLES.items():
            rows = (_load(kind, row) for row in saved.get(name, ()))
            setattr(account, name, {row.id: row for row in rows})
        account.exclusions = {str(e).lower() for e in saved.get("exclusions", ())}
        account.resubscriptions = [_load(Resubscription, r) for r in saved.get("resubscriptions", ())]
        account.next_id = int(saved.get("next_id", 1))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not an ActiveCampaign sandbox state ({type(exc).__name__}: {exc})") from None
    account.reindex()
    return account

