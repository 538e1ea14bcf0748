"""Reading back what the consent guard needs: per-list statuses and the managed tags of contacts.

ActiveCampaign filters contacts by list status (``listid`` + ``status``), by tag (``tagid``) and by
change time (``filters[updated_after]``), 100 a page, so the state of every managed contact costs
``(statuses x lists + tags) x contacts / 100`` requests, not one or more per contact:

* first run (``since`` None): every contact subscribed (1) or unsubscribed (2) on a managed list,
  and every contact with a managed tag;
* later runs: the contacts changed since ``since`` (list, tag and field changes move a contact's
  ``udate``), then the same list and tag queries narrowed to that window, so a contact that lost
  its last managed tag is reported too, with no tags.

``filters[updated_after]`` is typed as a *date* by the OpenAPI document, so the window starts a
day early (time zones) and contacts are kept only when their ``udate`` is at or after ``since``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from connector.protocols import EspContact
from connector.redact import mask_email
from connectors.activecampaign.client import ActiveCampaignClient
from connectors.activecampaign.models import AcContactRow, parse
from connectors.activecampaign.schema import AccountSchema

__all__ = ["ContactCache", "read_contacts", "unsubscribed_by_email"]

SUBSCRIBED, UNSUBSCRIBED = 1, 2
_log = logging.getLogger("connectors.activecampaign")


@dataclass
class ContactCache:
    """What the sink learnt about contacts: ids by email, and the list ids each is unsubscribed from.

    ``unsubscribed`` is None until the account's unsubscribes were read once (by a full
    :func:`read_contacts` or :func:`unsubscribed_by_email`); afterwards it is kept current.
    """

    ids: dict[str, int] = field(default_factory=dict)
    unsubscribed: dict[str, set[int]] | None = None

    def left(self, email: str) -> set[int]:
        return (self.unsubscribed or {}).get(email.casefold(), set())

    def note_unsubscribed(self, email: str, list_ids: set[int]) -> None:
        if self.unsubscribed is not None and list_ids:
            self.unsubscribed.setdefault(email.casefold(), set()).update(list_ids)

    def moved(self, old: str, new: str) -> None:
        """A contact's email changed from ``old`` to ``new``."""
        if (contact_id := self.ids.pop(old.casefold(), None)) is not None:
            self.ids[new.casefold()] = contact_id
        if self.unsubscribed is not None and (left := self.unsubscribed.pop(old.casefold(), None)):
            self.unsubscribed.setdefault(new.casefold(), set()).update(left)


@dataclass
class _Seen:
    email: str
    udate: datetime | None
    subscribed: set[str] = field(default_factory=set)
    unsubscribed: set[str] = field(default_factory=set)
    left_ids: set[int] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)


def _udate(row: AcContactRow) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(row.udate) if row.udate else None
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed is not None and parsed.tzinfo is None else parsed


async def _rows(client: ActiveCampaignClient, params: dict[str, Any]) -> AsyncIterator[AcContactRow]:
    async for page in client.pages("/contacts", "contacts", params):
        for raw in page:
            yield parse(AcContactRow, raw, "GET /contacts")


async def read_contacts(client: ActiveCampaignClient, schema: AccountSchema, cache: ContactCache,
                        since: datetime | None) -> AsyncIterator[EspContact]:
    """The managed contacts (``since`` None) or those changed since ``since``, as :class:`EspContact`."""
    found: dict[int, _Seen] = {}
    window: dict[str, Any] = {}
    if since is not None:
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
        window = {"filters[updated_after]": (since.astimezone(UTC) - timedelta(days=1)).date().isoformat()}
        async for row in _rows(client, window):
            udate = _udate(row)
            if udate is None or udate >= since:
                found[row.id] = _Seen(row.email, udate)

    def seen(row: AcContactRow) -> _Seen | None:
        if since is None:
            return found.setdefault(row.id, _Seen(row.email, _udate(row)))
        return found.get(row.id)

    for list_id, name in sorted(schema.managed_list_ids().items()):
        for status in (SUBSCRIBED, UNSUBSCRIBED):
            async for row in _rows(client, {**window, "listid": str(list_id), "status": status}):
                if (entry := seen(row)) is not None:
                    (entry.subscribed if status == SUBSCRIBED else entry.unsubscribed).add(name)
                    if status == UNSUBSCRIBED:
                        entry.left_ids.add(list_id)
    for tag_id, name in sorted(schema.managed_tag_ids().items()):
        async for row in _rows(client, {**window, "tagid": tag_id}):
            if (entry := seen(row)) is not None:
                entry.tags.add(name)

    if since is None:
        cache.unsubscribed = {}
    for contact_id, entry in found.items():
        cache.ids[entry.email.casefold()] = contact_id
        if cache.unsubscribed is not None:
            cache.unsubscribed[entry.email.casefold()] = set(entry.left_ids)
        try:
            yield EspContact(email=entry.email, contact_id=str(contact_id), updated_at=entry.udate,
                             unsubscribed_lists=frozenset(entry.unsubscribed),
                             subscribed_lists=frozenset(entry.subscribed), managed_tags=frozenset(entry.tags))
        except ValidationError:
            _log.warning("activecampaign: contact %s has an email the connector cannot use (%s); skipped",
                         contact_id, mask_email(entry.email))


async def unsubscribed_by_email(client: ActiveCampaignClient, schema: AccountSchema) -> dict[str, set[int]]:
    """Every contact unsubscribed (status 2) from a managed list: email -> those list ids."""
    out: dict[str, set[int]] = {}
    for list_id in sorted(schema.managed_list_ids()):
        async for row in _rows(client, {"listid": str(list_id), "status": UNSUBSCRIBED}):
            out.setdefault(row.email.casefold(), set()).add(list_id)
    return out
