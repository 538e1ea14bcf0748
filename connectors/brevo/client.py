"""A Brevo API v3 client on the core HTTP layer: the ``api-key`` header, two budgets, typed answers.

**Budgets.** Brevo counts requests per endpoint class (developers.brevo.com/docs/api-limits,
General tier): everything under ``/v3/contacts/…`` 10 a second (36,000 an hour); every other
endpoint 100 an hour, ``/v3/processes/{id}`` included. The client holds one
:class:`~connector.ratelimit.RateLimiter` per class and paces each request by its path:

* contacts: ``0.9 × contacts_per_second`` with a bucket of one, so no second ever holds more than
  the limit however the requests arrive;
* other: ``other_burst`` at once, then ``other_per_hour − other_burst − 1`` spread over the hour, so
  no sliding hour ever holds more than ``other_per_hour``.

Every answer carries ``x-sib-ratelimit-remaining`` and ``-reset`` (seconds). The client's
``on_response`` hook lowers a limiter to what Brevo says is left, and when nothing is left (or on
a 429, which carries no ``Retry-After``) pauses that class until the reset. The retries
themselves are the core layer's (408, 429, 5xx, timeouts), so nothing here loops.

The key is a secret of the HTTP layer: it never appears in an error, a log line or a repr.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from connector.clock import Clock, SystemClock
from connector.http import HttpClient, RetryPolicy
from connector.ratelimit import RateLimiter
from connectors.brevo.models import (
    Attributes,
    Contact,
    ContactsPage,
    Created,
    FoldersPage,
    ListsPage,
    MembershipResult,
    Process,
    ProcessAccepted,
)
from connectors.brevo.settings import BrevoSettings

__all__ = ["CONTACTS_PAGE", "LIST_BATCH", "BrevoClient", "budget_of", "iso_time"]

CONTACTS_PAGE = 1000  # GET /contacts limit maximum
LIST_BATCH = 150  # emails per contacts/add|remove request
_META_PAGE = 50  # folders and lists pages
_log = logging.getLogger("connectors.brevo")


def budget_of(path: str) -> str:
    """``contacts`` for a path under ``/contacts`` (relative to the API root), else ``other``."""
    return "contacts" if path == "/contacts" or path.startswith("/contacts/") else "other"


def iso_time(when: datetime) -> str:
    """A ``modifiedSince`` value: UTC, milliseconds, ``Z``."""
    utc = when.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class BrevoClient:
    """One Brevo account's API: paced by two budgets, retried by the core policy."""

    def __init__(
        self,
        settings: BrevoSettings,
        *,
        account: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.account = account
        self.clock: Clock = clock or SystemClock()
        per_second = settings.contacts_per_second
        self.limiters = {
            "contacts": RateLimiter(0.9 * per_second, 1.0, clock=self.clock, name=f"brevo:{account}:contacts"),
            "other": RateLimiter(max(1, settings.other_per_hour - settings.other_burst - 1) / 3600.0,
                                 float(min(settings.other_burst, settings.other_per_hour - 1)),
                                 clock=self.clock, name=f"brevo:{account}:other"),
        }
        root = str(settings.base_url).rstrip("/")
        key = settings.api_key.get_secret_value()
        timeout = httpx.Timeout(settings.timeout_seconds, connect=min(10.0, settings.timeout_seconds))
        # One HTTP client per budget, each with its limiter: a retry re-acquires from the right budget.
        self.http = {
            name: HttpClient(
                base_url=root, platform="brevo", account=account, headers={"api-key": key}, secrets=[key],
                limiter=limiter, clock=self.clock, transport=transport, retry=retry, timeout=timeout,
                on_response=self._budget_report(limiter, name),
            )
            for name, limiter in self.limiters.items()
        }

    def __repr__(self) -> str:
        return f"BrevoClient(account={self.account!r}, base_url={str(self.settings.base_url)!r})"

    @property
    def requests(self) -> int:
        """Requests sent so far, retries included."""
        return sum(h.stats.requests for h in self.http.values())

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        for http in self.http.values():
            await http.aclose()

    # ------------------------------------------------------------------ pacing
    async def _call(self, method: str, path: str, *, expected: Sequence[int] = (), **kwargs: Any) -> httpx.Response:
        return await self.http[budget_of(path)].request(method, path, expected=expected, **kwargs)

    def _budget_report(self, limiter: RateLimiter, budget: str) -> Callable[[httpx.Response], None]:
        """Adopt Brevo's view of the budget: lower the level to what is left; at zero or on a 429
        (which carries no ``Retry-After``), pause the budget until Brevo's reset."""

        def report(response: httpx.Response) -> None:
            remaining = _number(response.headers.get("x-sib-ratelimit-remaining"))
            reset = _number(response.headers.get("x-sib-ratelimit-reset"))
            if remaining is not None and remaining < limiter.available:
                limiter.sync(remaining)
            if (response.status_code == 429 or remaining == 0) and reset is not None:
                limiter.pause(reset)
                if response.status_code == 429:
                    _log.warning("brevo %s: rate limited (%s budget); pausing it %.0f s", self.account, budget,
                                 reset, extra={"platform": "brevo", "account": self.account})

        return report

    # ------------------------------------------------------------------ folders, lists, attributes
    async def folders(self) -> dict[str, int]:
        """Every folder's name → id."""
        found: dict[str, int] = {}
        offset = 0
        while True:
            page = FoldersPage.model_validate_json((await self._call(
                "GET", "/contacts/folders", params={"limit": _META_PAGE, "offset": offset, "sort": "asc"})).content)
            found.update({f.name: f.id for f in page.folders})
            offset += _META_PAGE
            if not page.folders or offset >= page.count:
                return found

    async def create_folder(self, name: str) -> int:
        response = await self._call("POST", "/contacts/folders", json={"name": name})
        return Created.model_validate_json(response.content).id

    async def lists(self) -> ListsPage:
        """Every list (id, name, folder), all pages."""
        found = []
        offset = 0
        while True:
            page = ListsPage.model_validate_json((await self._call(
                "GET", "/contacts/lists", params={"limit": _META_PAGE, "offset": offset, "sort": "asc"})).content)
            found.extend(page.lists)
            offset += _META_PAGE
            if not page.lists or offset >= page.count:
                return ListsPage(lists=tuple(found), count=len(found))

    async def create_list(self, name: str, folder_id: int) -> int:
        response = await self._call("POST", "/contacts/lists", json={"name": name, "folderId": folder_id})
        return Created.model_validate_json(response.content).id

    async def attributes(self) -> Attributes:
        return Attributes.model_validate_json((await self._call("GET", "/contacts/attributes")).content)

    async def create_attribute(self, name: str, kind: str, options: Sequence[str] = ()) -> None:
        body: dict[str, Any] = {"type": kind}
        if kind == "multiple-choice":
            body["multiCategoryOptions"] = list(options)
        await self._call("POST", f"/contacts/attributes/normal/{quote(name, safe='')}", json=body)

    async def add_options(self, name: str, options: Sequence[str]) -> None:
        """Add options to a multiple-choice attribute (Brevo adds; existing ones stay)."""
        await self._call("PUT", f"/contacts/attributes/normal/{quote(name, safe='')}",
                         json={"multiCategoryOptions": list(options)})

    # ------------------------------------------------------------------ contacts
    async def iter_contacts(self, modified_since: datetime | None) -> AsyncIterator[Sequence[Contact]]:
        """Pages of contacts (oldest first), those modified after ``modified_since`` when given."""
        offset = 0
        params: dict[str, Any] = {"limit": CONTACTS_PAGE, "sort": "asc"}
        if modified_since is not None:
            params["modifiedSince"] = iso_time(modified_since)
        while True:
            response = await self._call("GET", "/contacts", params={**params, "offset": offset})
            page = ContactsPage.model_validate_json(response.content)
            if page.contacts:
                yield page.contacts
            offset += CONTACTS_PAGE
            if len(page.contacts) < CONTACTS_PAGE or offset >= page.count:
                return

    async def contact(self, email: str) -> Contact | None:
        """The contact with this email, or None."""
        response = await self._call("GET", f"/contacts/{quote(email, safe='')}",
                                    params={"identifierType": "email_id"}, expected=(404,))
        return None if response.status_code == 404 else Contact.model_validate_json(response.content)

    async def upsert_contact(self, body: Mapping[str, Any]) -> httpx.Response:
        """``POST /contacts`` with ``updateEnabled`` (the caller's body); 400 answers are returned."""
        return await self._call("POST", "/contacts", json={**body, "updateEnabled": True}, expected=(400,))

    async def update_contact(self, email: str, body: Mapping[str, Any]) -> httpx.Response:
        """``PUT /contacts/{email}?identifierType=email_id``; 400 and 404 answers are returned."""
        return await self._call("PUT", f"/contacts/{quote(email, safe='')}", params={"identifierType": "email_id"},
                                json=dict(body), expected=(400, 404))

    async def import_contacts(self, content: bytes) -> int:
        """``POST /contacts/import`` with a prepared JSON body; the process id."""
        response = await self._call("POST", "/contacts/import", content=content,
                                    headers={"content-type": "application/json"})
        return ProcessAccepted.model_validate_json(response.content).processId

    async def process(self, process_id: int) -> Process:
        return Process.model_validate_json((await self._call("GET", f"/processes/{int(process_id)}")).content)

    async def remove_from_list(self, list_id: int, emails: Sequence[str]) -> MembershipResult:
        """Take up to :data:`LIST_BATCH` contacts off a list."""
        response = await self._call("POST", f"/contacts/lists/{int(list_id)}/contacts/remove",
                                    json={"emails": list(emails)})
        return MembershipResult.model_validate(response.json().get("contacts", {}))


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
