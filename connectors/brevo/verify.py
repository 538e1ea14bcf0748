"""What the sink knows of the account's contacts, and whether Brevo holds what was written.

:class:`AccountView` keeps only what ``apply`` must respect: the blocklisted emails and each
contact's list unsubscriptions, plus a watermark (the newest ``modifiedAt`` seen, on Brevo's own
clock) so the next refresh reads only what changed since. :func:`mismatches` compares a written row
with the contact read back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from connector.protocols import EspContact
from connectors.brevo.models import Contact
from connectors.brevo.names import SMS
from connectors.brevo.rows import Row
from connectors.brevo.schema import BrevoSchema

__all__ = ["AccountView", "mismatches"]

_OVERLAP = timedelta(seconds=1)  # modifiedSince is "after"; re-read the watermark's second


class AccountView:
    """Blocklisted emails, list unsubscriptions and the read watermark of one account."""

    def __init__(self) -> None:
        self.blocklisted: set[str] = set()
        self.unsubscribed: dict[str, frozenset[int]] = {}
        self.watermark: datetime | None = None

    def since(self) -> datetime | None:
        """Where the next incremental read starts (None: read everything)."""
        return self.watermark - _OVERLAP if self.watermark else None

    def note(self, contacts: Iterable[Contact]) -> None:
        """Take in contacts as read from Brevo."""
        for contact in contacts:
            if contact.modifiedAt and (self.watermark is None or contact.modifiedAt > self.watermark):
                self.watermark = contact.modifiedAt
            if not contact.email:
                continue
            email = contact.email.lower()
            if contact.emailBlacklisted:
                self.blocklisted.add(email)
            else:
                self.blocklisted.discard(email)
            if contact.listUnsubscribed:
                self.unsubscribed[email] = frozenset(contact.listUnsubscribed)
            else:
                self.unsubscribed.pop(email, None)

    def renamed(self, old: str, new: str) -> None:
        if old in self.blocklisted:
            self.blocklisted.add(new)
        if old in self.unsubscribed:
            self.unsubscribed[new] = self.unsubscribed[old]

    def esp_contact(self, contact: Contact, schema: BrevoSchema, tags_attribute: str) -> EspContact:
        """The core's view of a Brevo contact: managed lists by name, managed tags from the attribute."""
        names = {i: n for n, i in schema.lists.items()}
        tags = contact.attributes.get(tags_attribute) or []
        return EspContact(
            email=contact.email or "",
            contact_id=str(contact.id),
            blocklisted=contact.emailBlacklisted,
            subscribed_lists=frozenset(names[i] for i in contact.listIds if i in names),
            unsubscribed_lists=frozenset(names[i] for i in contact.listUnsubscribed if i in names),
            managed_tags=frozenset(tags if isinstance(tags, list) else [tags]),
            updated_at=contact.modifiedAt,
        )


def _same(sent: Any, held: Any, name: str) -> bool:
    if sent == "" or sent == []:
        return held in (None, "", [])
    if name == SMS:
        return str(held or "").lstrip("+") == str(sent).lstrip("+")
    if isinstance(sent, list):
        return isinstance(held, list) and sorted(held) == sorted(sent)
    if isinstance(sent, bool) or isinstance(held, bool):
        return sent is held
    if isinstance(sent, int | float):
        return isinstance(held, int | float) and abs(float(held) - float(sent)) <= 1e-9 * max(1.0, abs(sent))
    return isinstance(held, str) and held == sent


def mismatches(row: Row, contact: Contact) -> list[str]:
    """What Brevo does not hold of ``row``: attribute names and "lists" (never values)."""
    wrong = [name for name, sent in row.attributes.items() if not _same(sent, contact.attributes.get(name), name)]
    if not set(row.target_lists) <= set(contact.listIds):
        wrong.append("lists")
    return [f"{', '.join(wrong)} not as sent"] if wrong else []
