"""An ActiveCampaign API v3 client on the core HTTP layer: token, pacing, JSON bodies, offset pages.

**Authentication**: the ``Api-Token`` header, handed to the HTTP layer as a secret, so it never
appears in an error, a log line or a repr.

**Pacing**: one :class:`~connector.ratelimit.RateLimiter` for the account (``requests_per_second``,
ActiveCampaign's 5 a second, shared with every other integration on the account) is acquired
by the HTTP layer before every attempt. Bulk imports also take a token from a second limiter:
100 multi-contact (``bulk_imports_per_minute``) or 20 single-contact
(``single_imports_per_minute``) imports a minute. Both limiters hand out one token at a time
(capacity 1) a little under the configured rate (95% for requests, 98% for imports): ActiveCampaign
counts requests in sliding windows, and a client pacing at exactly the limit would, with a few
milliseconds of jitter, land the 6th request of a second or the 101st import of a minute inside
the window. Retries of 429/5xx/timeouts are the HTTP
layer's; a 429's ``Retry-After`` pauses the whole account.

**Bodies**: every answer must be a JSON object; one that is not (a proxy cutting it short) is
asked for again once for reads and raises :class:`~connector.errors.RemoteAPIError` naming the
endpoint otherwise (a write is not blindly repeated).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Collection, Mapping
from typing import Any

import httpx

from connector.clock import Clock, SystemClock
from connector.errors import RemoteAPIError
from connector.http import HttpClient, QueryParams, RetryPolicy
from connector.ratelimit import RateLimiter
from connectors.activecampaign.settings import ActiveCampaignSettings

__all__ = ["ACCOUNT_MARGIN", "API_PATH", "BULK_MARGIN", "PAGE_LIMIT", "ActiveCampaignClient"]

API_PATH = "/api/3"
PAGE_LIMIT = 100  # ActiveCampaign's largest page
# Pace a little under the limits: ActiveCampaign counts arrivals in sliding windows, and a request
# delayed on the way (a slow event-loop turn, a new connection) lands closer to the next one.
ACCOUNT_MARGIN = 0.95  # 5 a second: 10 ms of slack per request
BULK_MARGIN = 0.98  # 100 a minute: 0.6 s of slack per minute
_log = logging.getLogger("connectors.activecampaign")


class ActiveCampaignClient:
    """One account's API v3: JSON requests, offset pages and bulk imports, authenticated and paced.

    Attributes:
        http: the core HTTP client (stats, redactor).
        limiter: the account's request limiter.
        bulk_limiter / single_limiter: the bulk importer's multi- and single-contact limiters.
    """

    def __init__(
        self,
        settings: ActiveCampaignSettings,
        *,
        account: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.account = account
        self.clock: Clock = clock or SystemClock()
        token = settings.api_key.get_secret_value()
        self.limiter = RateLimiter(settings.requests_per_second * ACCOUNT_MARGIN, 1.0, clock=self.clock,
                                   name=f"activecampaign:{account}")
        self.bulk_limiter = RateLimiter(settings.bulk_imports_per_minute * BULK_MARGIN / 60.0, 1.0,
                                        clock=self.clock, name=f"activecampaign:{account}:bulk_import")
        self.single_limiter = RateLimiter(settings.single_imports_per_minute * BULK_MARGIN / 60.0, 1.0,
                                          clock=self.clock, name=f"activecampaign:{account}:bulk_import_single")
        self.http = HttpClient(
            base_url=str(settings.url).rstrip("/") + API_PATH,
            platform="activecampaign",
            account=account,
            headers={"Api-Token": token, "Accept": "application/json"},
            secrets=[token],
            limiter=self.limiter,
            retry=retry,
            clock=self.clock,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"ActiveCampaignClient(account={self.account!r}, url={str(self.settings.url)!r})"

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self.http.aclose()

    # ------------------------------------------------------------------ requests
    async def get(self, path: str, params: QueryParams | None = None) -> dict[str, Any]:
        """``GET path``: the JSON object (an unreadable body is asked for once more).

        Raises:
            NotFoundError, AuthError, RemoteAPIError, RetriesExhaustedError: as the HTTP layer says.
        """
        for attempt in range(2):
            response = await self.http.get(path, params=params)
            try:
                return _object(response)
            except ValueError as exc:
                if attempt:
                    raise self._unreadable(response, exc) from None
                _log.warning("activecampaign %s: GET %s returned an unreadable body (%s); asking again",
                             self.account, path, exc, extra={"platform": "activecampaign", "account": self.account})
        raise AssertionError("unreachable")  # pragma: no cover

    async def send(self, method: str, path: str, body: Any | None = None,
                   expected: Collection[int] = ()) -> tuple[int, dict[str, Any]]:
        """A write (``POST``/``PUT``/``DELETE``) with a JSON body: ``(status, JSON object)``.

        ``expected`` statuses (e.g. 422, 404) are returned instead of raised.
        """
        response = await self.http.request(method, path, json=body, expected=expected)
        try:
            return response.status_code, _object(response)
        except ValueError as exc:
            raise self._unreadable(response, exc) from None

    async def pages(self, path: str, key: str, params: Mapping[str, Any] | None = None) -> AsyncIterator[list[Any]]:
        """Every page of a listing (``limit``/``offset``), each the array under ``key``. See :meth:`bodies`."""
        async for body in self.bodies(path, key, params):
            yield body[key]

    async def bodies(self, path: str, key: str,
                     params: Mapping[str, Any] | None = None) -> AsyncIterator[dict[str, Any]]:
        """Every answer of a listing (``limit``/``offset``) whose array under ``key`` is not empty.

        Stops at an empty or short page, or when ``meta.total`` is reached; a page that repeats
        the previous one's first item stops the walk with an error instead of looping forever.

        Raises:
            RemoteAPIError: the answer has no ``key`` array, or the endpoint ignores ``offset``.
        """
        offset, seen_first = 0, None
        while True:
            body = await self.get(path, {**(params or {}), "limit": PAGE_LIMIT, "offset": offset})
            items = body.get(key)
            if not isinstance(items, list):
                raise RemoteAPIError(f"activecampaign {self.account}: GET {path} answered without a {key!r} array",
                                     status=200, method="GET", url=path, platform="activecampaign")
            if items and offset and items[0] == seen_first:
                raise RemoteAPIError(f"activecampaign {self.account}: GET {path} repeated a page at offset {offset}",
                                     status=200, method="GET", url=path, platform="activecampaign")
            if items:
                seen_first = items[0]
                yield body
            offset += len(items)
            total = _total(body)
            if len(items) < PAGE_LIMIT or (total is not None and offset >= total):
                return

    async def bulk_import(self, body: bytes, contacts: int) -> tuple[int, dict[str, Any]]:
        """``POST /import/bulk_import`` with a ready JSON ``body`` of ``contacts`` contacts.

        Takes a token from the multi- or single-contact import limiter first. Returns
        ``(status, JSON)``; a 400 (the import refused, nothing queued) is returned, not raised.
        """
        await (self.single_limiter if contacts == 1 else self.bulk_limiter).acquire()
        response = await self.http.post("/import/bulk_import", content=body,
                                        headers={"Content-Type": "application/json"}, expected=(400,))
        try:
            return response.status_code, _object(response)
        except ValueError as exc:
            raise self._unreadable(response, exc) from None

    def _unreadable(self, response: httpx.Response, exc: Exception) -> RemoteAPIError:
        request = response.request
        return RemoteAPIError(
            f"activecampaign {self.account}: {request.method} {request.url.path} returned a body that is not a JSON "
            f"object ({exc})", status=response.status_code, method=request.method,
            url=self.http.redactor.url(str(request.url)), platform="activecampaign",
            excerpt=self.http.redactor.excerpt(response.content),
        )


def _object(response: httpx.Response) -> dict[str, Any]:
    """The body as a JSON object (an empty body reads as ``{}``).

    Raises:
        ValueError: it is not JSON, or not an object.
    """
    if not response.content.strip():
        return {}
    data = json.loads(response.content)
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    return data


def _total(body: Mapping[str, Any]) -> int | None:
    meta = body.get("meta")
    try:
        return int(meta["total"]) if isinstance(meta, dict) and "total" in meta else None
    except (TypeError, ValueError):
        return None
