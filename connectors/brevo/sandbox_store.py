"""The Brevo sandbox's account: contacts, folders, lists and attributes, and how Brevo changes them.

Rules it keeps, as Brevo documents them (``shared/specs/brevo``):

* one contact per email (lower-cased) and per ``SMS`` number; ``ext_id`` is optional;
* attribute values must match the attribute's type or they are ignored; ``""`` (or ``[]`` for a
  multiple-choice attribute) clears a value where the request allows clearing;
* ``emailBlacklisted`` stays as it is unless a request sets it. Every *clear* of a blocklisted
  contact is recorded in :attr:`BrevoAccount.blocklist_clears`, so tests can assert there were none;
* ``modifiedAt`` moves only when something about the contact actually changed.

The account is plain data (:meth:`BrevoAccount.dump`/:meth:`BrevoAccount.load`) so a served
sandbox keeps it across restarts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import phonenumbers

__all__ = ["AccountError", "Attribute", "BrevoAccount", "Contact", "iso", "parse_time"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DEFAULT_ATTRIBUTES = (("FIRSTNAME", "text"), ("LASTNAME", "text"), ("SMS", "text"))


class AccountError(Exception):
    """A request the account refuses: Brevo's ``code``, ``message`` and HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def iso(when: datetime) -> str:
    """Brevo's date-time format: UTC with milliseconds, e.g. ``2026-01-15T09:00:00.000Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_time(text: str, name: str) -> datetime:
    """A date-time query parameter (``Z`` or an offset; naive means UTC).

    Raises:
        AccountError: 400 ``invalid_parameter``.
    """
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise AccountError(400, "invalid_parameter", f"{name} is not a valid date-time") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def valid_sms(value: str) -> str | None:
    """The number in E.164 if Brevo takes it as ``SMS`` (country code with ``+`` or ``00``), else None."""
    text = value.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+"):
        return None
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@dataclass
class Attribute:
    name: str
    category: str
    type: str
    options: list[str] = field(default_factory=list)

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "category": self.category, "type": self.type}
        if self.type == "multiple-choice":
            out["multiCategoryOptions"] = list(self.options)
        return out


@dataclass
class Contact:
    id: int
    email: str | None
    created_at: datetime
    modified_at: datetime
    attributes: dict[str, Any] = field(default_factory=dict)
    ext_id: str | None = None
    email_blacklisted: bool = False
    sms_blacklisted: bool = False
    list_ids: set[int] = field(default_factory=set)
    list_unsubscribed: set[int] = field(default_factory=set)

    def render(self) -> dict[str, Any]:
        attributes = dict(self.attributes)
        if "SMS" in attributes:  # stored in E.164; Brevo answers with the digits only ("33058407250")
            attributes["SMS"] = str(attributes["SMS"]).lstrip("+")
        if self.ext_id is not None:
            attributes["EXT_ID"] = self.ext_id
        out: dict[str, Any] = {
            "email": self.email, "id": self.id, "emailBlacklisted": self.email_blacklisted,
            "smsBlacklisted": self.sms_blacklisted, "createdAt": iso(self.created_at),
            "modifiedAt": iso(self.modified_at), "listIds": sorted(self.list_ids), "attributes": attributes,
        }
        if self.email is None:
            del out["email"]
        if self.list_unsubscribed:
            out["listUnsubscribed"] = sorted(self.list_unsubscribed)
        return out

    def dump(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "created_at": self.created_at.isoformat(),
                "modified_at": self.modified_at.isoformat(),
                "attributes": {k: list(v) if isinstance(v, list) else v for k, v in self.attributes.items()},
                "ext_id": self.ext_id,
                "email_blacklisted": self.email_blacklisted, "sms_blacklisted": self.sms_blacklisted,
                "list_ids": sorted(self.list_ids), "list_unsubscribed": sorted(self.list_unsubscribed)}

    @classmethod
    def load(cls, data: dict[str, Any]) -> Contact:
        return cls(id=data["id"], email=data["email"], created_at=datetime.fromisoformat(data["created_at"]),
                   modified_at=datetime.fromisoformat(data["modified_at"]), attributes=dict(data["attributes"]),
                   ext_id=data.get("ext_id"), email_blacklisted=data["email_blacklisted"],
                   sms_blacklisted=data["sms_blacklisted"], list_ids=set(data["list_ids"]),
                   list_unsubscribed=set(data["list_unsubscribed"]))


@dataclass
class Change:
    """What a request asks to change on one contact (already parsed)."""

    attributes: dict[str, Any] = field(default_factory=dict)
    new_email: str | None = None
    ext_id: str | None = None
    email_blacklisted: bool | None = None
    sms_blacklisted: bool | None = None
    add_lists: tuple[int, ...] = ()
    remove_lists: tuple[int, ...] = ()
    empty_clears: bool = True  # "" clears an attribute (contacts endpoints); imports only with emptyContactsAttributes


class BrevoAccount:
    """One Brevo account's contact data."""

    def __init__(self) -> None:
        self.contacts: dict[int, Contact] = {}
        self.by_email: dict[str, int] = {}
        self.by_sms: dict[str, int] = {}
        self.folders: dict[int, str] = {}
        self.lists: dict[int, dict[str, Any]] = {}
        self.attributes: dict[str, Attribute] = {n: Attribute(n, "normal", t) for n, t in DEFAULT_ATTRIBUTES}
        self.blocklist_clears: list[dict[str, Any]] = []
        self.next_id = {"contact": 1, "folder": 1, "list": 1}

    # ------------------------------------------------------------------ lookups
    def find(self, identifier: str, kind: str | None) -> Contact | None:
        """The contact an identifier names (``identifierType`` ``kind``; None: email or id by its look)."""
        value = identifier.strip()
        if kind is None:
            kind = "email_id" if "@" in value else "contact_id" if value.isdigit() else "phone_id"
        if kind == "email_id":
            key = self.by_email.get(value.lower())
        elif kind == "contact_id":
            key = int(value) if value.isdigit() else None
        elif kind == "phone_id":
            key = self.by_sms.get(valid_sms(value) or "")
        elif kind == "ext_id":
            key = next((c.id for c in self.contacts.values() if c.ext_id == value), None)
        else:
            raise AccountError(400, "invalid_parameter", f"identifierType {kind} is not supported here")
        return self.contacts.get(key) if key is not None else None

    def list_id(self, value: object) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value not in self.lists:
            status = 404 if isinstance(value, int) else 400
            raise AccountError(status, "document_not_found", f"List ID {value} not found")
        return value

    # ------------------------------------------------------------------ contacts
    def create(self, email: str | None, now: datetime, change: Change) -> Contact:
        """A new contact (email already checked to be free)."""
        contact = Contact(id=self.next_id["contact"], email=email, created_at=now, modified_at=now)
        self.next_id["contact"] += 1
        self._apply(contact, change, now, creating=True)
        self.contacts[contact.id] = contact
        if email is not None:
            self.by_email[email] = contact.id
        return contact

    def update(self, contact: Contact, change: Change, now: datetime, via: str) -> None:
        """Apply ``change``; ``via`` names the request for the blocklist-clear record."""
        before = contact.dump()
        self._apply(contact, change, now, creating=False, via=via)
        if contact.dump() != before:
            contact.modified_at = now

    def check_email(self, value: object) -> str:
        if not isinstance(value, str) or not _EMAIL.match(value.strip()):
            raise AccountError(400, "invalid_parameter", "Invalid email address")
        return value.strip().lower()

    def _apply(self, contact: Contact, change: Change, now: datetime, *, creating: bool, via: str = "") -> None:
        values = self._values(contact, change)  # validates everything before anything changes
        if change.new_email is not None and change.new_email != contact.email:
            email = self.check_email(change.new_email)
            if email in self.by_email and self.by_email[email] != contact.id:
                raise AccountError(400, "duplicate_parameter", "email is already associated with another Contact")
            if contact.email is not None:
                self.by_email.pop(contact.email, None)
            contact.email = email
            if not creating:
                self.by_email[email] = contact.id
        for name, value in values.items():
            if name == "SMS":
                self.by_sms.pop(str(contact.attributes.get("SMS", "")), None)
                if value is not None:
                    self.by_sms[value] = contact.id
            if value is None:
                contact.attributes.pop(name, None)
            else:
                contact.attributes[name] = value
        if change.ext_id is not None:
            contact.ext_id = change.ext_id
        if change.email_blacklisted is not None:
            if contact.email_blacklisted and not change.email_blacklisted:
                self.blocklist_clears.append({"contact": contact.id, "email": contact.email, "at": now.isoformat(),
                                              "via": via})
            contact.email_blacklisted = change.email_blacklisted
        if change.sms_blacklisted is not None:
            contact.sms_blacklisted = change.sms_blacklisted
        contact.list_ids |= set(change.add_lists)
        contact.list_unsubscribed -= set(change.add_lists)
        contact.list_ids -= set(change.remove_lists)

    def _values(self, contact: Contact, change: Change) -> dict[str, Any]:
        """The attribute values to store (None: clear); values of the wrong type are ignored.

        Raises:
            AccountError: an SMS that is not a valid number, or that another contact has.
        """
        out: dict[str, Any] = {}
        for raw_name, value in change.attributes.items():
            name = str(raw_name).upper()
            if name == "EMAIL":
                continue  # handled as new_email by the caller
            attribute = self.attributes.get(name)
            if attribute is None:
                continue  # "Any contact attribute that doesn't exist in your account will be ignored"
            if value == "" or value is None or (value == [] and attribute.type == "multiple-choice"):
                if change.empty_clears:
                    out[name] = None
                continue
            if name == "SMS":
                number = valid_sms(str(value))
                if number is None:
                    raise AccountError(400, "invalid_parameter", "Invalid phone number")
                owner = self.by_sms.get(number)
                if owner is not None and owner != contact.id:
                    raise AccountError(400, "duplicate_parameter", "SMS is already associated with another Contact")
                out[name] = number
                continue
            coerced = _coerce(attribute, value)
            if coerced is not None:
                out[name] = coerced
        return out

    # ------------------------------------------------------------------ persistence
    def dump(self) -> dict[str, Any]:
        return {
            "contacts": [c.dump() for c in self.contacts.values()],
            "folders": {str(k): v for k, v in self.folders.items()},
            "lists": {str(k): v for k, v in self.lists.items()},
            "attributes": [a.__dict__ for a in self.attributes.values()],
            "blocklist_clears": self.blocklist_clears,
            "next_id": self.next_id,
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> BrevoAccount:
        account = cls()
        for raw in data.get("contacts", []):
            contact = Contact.load(raw)
            account.contacts[contact.id] = contact
            if contact.email:
                account.by_email[contact.email] = contact.id
            if contact.attributes.get("SMS"):
                account.by_sms[str(contact.attributes["SMS"])] = contact.id
        account.folders = {int(k): v for k, v in data.get("folders", {}).items()}
        account.lists = {int(k): v for k, v in data.get("lists", {}).items()}
        if "attributes" in data:
            account.attributes = {a["name"]: Attribute(**a) for a in data["attributes"]}
        account.blocklist_clears = list(data.get("blocklist_clears", []))
        account.next_id.update(data.get("next_id", {}))
        return account


def _coerce(attribute: Attribute, value: Any) -> Any:
    """``value`` as the attribute's type, or None when Brevo would ignore it."""
    kind = attribute.type
    if kind == "text":
        return value if isinstance(value, str) else str(value) if isinstance(value, int | float) else None
    if kind == "float":
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    if kind == "date":
        try:
            return date.fromisoformat(value).isoformat() if isinstance(value, str) else None
        except ValueError:
            return None
    if kind == "multiple-choice":
        chosen = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) and v in attribute.options for v in chosen):
            return None
        return sorted(set(chosen))
    return value
