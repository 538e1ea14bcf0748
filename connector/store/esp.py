"""What each ESP account last reported about its contacts (``Sink.read_state``): the consent guard's input.

The pipeline records every :class:`~connector.protocols.EspContact` a sink reads; planning looks
contacts up by email. An unsubscribe or a blocklist seen once stays until the ESP itself reports
otherwise, since the newest report for an email replaces the older one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import Connection, select

from connector.protocols import EspContact
from connector.store.schema import esp_contacts
from connector.store.sql import chunked, executemany, upsert

__all__ = ["get_esp_contacts", "record_esp_contacts"]


def record_esp_contacts(conn: Connection, sink: str, contacts: Iterable[EspContact], now: datetime) -> int:
    """Insert or replace what ``sink`` reported for each contact (by email); returns how many."""
    statement = upsert(conn, esp_contacts, ["sink", "email"])
    written = 0
    for chunk in chunked(contacts):
        latest = {contact.email: contact for contact in chunk}
        executemany(conn, statement, [
            {"sink": sink, "email": email, "contact_id": c.contact_id, "blocklisted": c.blocklisted,
             "unsubscribed_lists": sorted(c.unsubscribed_lists), "subscribed_lists": sorted(c.subscribed_lists),
             "managed_tags": sorted(c.managed_tags), "updated_at": c.updated_at, "seen_at": now}
            for email, c in latest.items()
        ])
        written += len(latest)
    return written


def get_esp_contacts(conn: Connection, sink: str, emails: Collection[str]) -> dict[str, EspContact]:
    """What ``sink`` last reported for each of ``emails`` that it knows, by email."""
    found: dict[str, EspContact] = {}
    for chunk in chunked(sorted(set(emails))):
        query = select(esp_contacts).where(esp_contacts.c.sink == sink, esp_contacts.c.email.in_(chunk))
        for row in conn.execute(query).mappings():
            found[row["email"]] = EspContact(
                email=row["email"], contact_id=row["contact_id"], blocklisted=row["blocklisted"],
                unsubscribed_lists=frozenset(row["unsubscribed_lists"]),
                subscribed_lists=frozenset(row["subscribed_lists"]), managed_tags=frozenset(row["managed_tags"]),
                updated_at=row["updated_at"],
            )
    return found
