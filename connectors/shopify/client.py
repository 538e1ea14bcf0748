"""A thin Shopify Admin GraphQL client on the core HTTP layer, paced by the shop's cost bucket.

Pacing (proactive, so a THROTTLED reply is a bug, not the normal path):

1. Before each query, take its *requested* cost from the limiter: the ``requestedQueryCost``
   Shopify reported for the same document and page size last time, else the static estimate of
   :func:`~connectors.shopify.queries.estimated_cost` (2 + first x per-node cost).
2. After each response, adopt Shopify's own view of the bucket:
   ``limiter.sync(currentlyAvailable, maximumAvailable, restoreRate)`` from
   ``extensions.cost.throttleStatus``. Shopify charges the requested cost up front and refunds the
   unused part, so the synced level is what really is left.

The bucket starts conservative (1,000 points at 50 a second, the oldest published Standard
numbers) until the first response says otherwise.

Errors, all from :mod:`connector.errors`::

    RemoteAPIError
    ├── ShopifyGraphQLError        top-level ``errors`` (message redacted), or ``userErrors`` of a mutation
    ├── AuthError
    │   └── ShopifyAccessDeniedError   ACCESS_DENIED; names the missing scope when Shopify does
    └── RateLimitedError
        └── ShopifyThrottledError  still THROTTLED after the bounded re-tries

HTTP-level failures (401/403/404, 429, 5xx, timeouts) are the core layer's: it retries the
transient ones under its one policy. This client never loops on those.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any, TypeVar

import httpx
from pydantic import TypeAdapter, ValidationError

from connector.clock import Clock, SystemClock
from connector.errors import AuthError, RateLimitedError, RemoteAPIError
from connector.http import HttpClient
from connector.ratelimit import RateLimiter
from connectors.shopify.models import Envelope, GraphQLError, QueryCost, ShopInfoData, UserError
from connectors.shopify.queries import SHOP_INFO, Variables, estimated_cost
from connectors.shopify.settings import ShopifySettings

__all__ = [
    "INITIAL_BUCKET",
    "INITIAL_RESTORE_RATE",
    "PACING_MARGIN",
    "ShopifyAccessDeniedError",
    "ShopifyClient",
    "ShopifyGraphQLError",
    "ShopifyThrottledError",
]

DataT = TypeVar("DataT")

INITIAL_BUCKET = 1000.0
INITIAL_RESTORE_RATE = 50.0
# Shopify's bucket and ours run on different clocks and round differently: waiting for exactly the
# requested points can land a hair short on Shopify's side (THROTTLED at "available == requested").
# Reserving one point more than the query requests costs a hundredth of a second at 100 points/s.
PACING_MARGIN = 1.0
_SCOPE = re.compile(r"\b(read|write)_[a-z_]+\b")
_log = logging.getLogger("connectors.shopify")


class ShopifyGraphQLError(RemoteAPIError):
    """Shopify answered 200 with top-level ``errors``, or a mutation reported ``userErrors``."""

    def __init__(self, message: str, *, codes: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.codes = tuple(codes)


class ShopifyAccessDeniedError(AuthError):
    """ACCESS_DENIED: the app lacks a scope (``scope`` when Shopify named it)."""

    def __init__(self, message: str, *, scope: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.scope = scope


class ShopifyThrottledError(RateLimitedError):
    """Shopify kept answering THROTTLED although the client paced itself by its bucket."""


class ShopifyClient:
    """GraphQL over the core :class:`~connector.http.HttpClient`, with cost-aware pacing.

    Attributes:
        limiter: the shop's points bucket (shared by every query of this client).
        throttled: THROTTLED replies seen; anything but 0 means pacing failed.
        last_cost: ``extensions.cost`` of the latest response that reported one.
        http: the core HTTP client (for downloads such as bulk exports).
    """

    def __init__(
        self,
        settings: ShopifySettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        limiter: RateLimiter | None = None,
        max_throttle_retries: int = 3,
    ) -> None:
        """Build the client for one shop; ``transport`` and ``clock`` are for tests and sandboxes."""
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.limiter = limiter or RateLimiter(
            INITIAL_RESTORE_RATE, INITIAL_BUCKET, clock=self.clock, name=f"shopify:{settings.shop}"
        )
        base_url = str(settings.base_url).rstrip("/") if settings.base_url else f"https://{settings.shop}.myshopify.com"
        self.path = f"/admin/api/{settings.api_version}/graphql.json"
        self.http = HttpClient(
            base_url=base_url,
            platform="shopify",
            account=settings.shop,
            headers={"X-Shopify-Access-Token": settings.access_token.get_secret_value()},
            limiter=self.limiter,
            clock=self.clock,
            transport=transport,
            on_response=self._on_http_response,
        )
        self.throttled = 0
        self.last_cost: QueryCost | None = None
        self.max_throttle_retries = max_throttle_retries
        self._requested: dict[tuple[str, int | None], float] = {}
        self._adapters: dict[object, TypeAdapter[Any]] = {}

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self.http.aclose()

    def estimate(self, document: str, variables: Variables | None = None) -> float:
        """The points to reserve for ``document``: Shopify's last word on it (else the static estimate),
        plus :data:`PACING_MARGIN`."""
        first = (variables or {}).get("first")
        key = (document, first if isinstance(first, int) else None)
        known = self._requested.get(key)
        cost = known if known is not None else float(estimated_cost(document, variables))
        # Never more than the bucket holds: the limiter would refuse it, and Shopify would too.
        return min(cost + PACING_MARGIN, self.limiter.capacity)

    async def execute(self, document: str, data: type[DataT], variables: Variables | None = None) -> DataT:
        """Run one GraphQL document and return its ``data`` parsed as ``data``.

        Raises:
            ShopifyAccessDeniedError: ACCESS_DENIED.
            ShopifyGraphQLError: any other top-level error, or no data at all.
            ShopifyThrottledError: THROTTLED on every one of the bounded attempts.
            RemoteAPIError, RetriesExhaustedError: HTTP-level failures, from the core layer.
        """
        adapter = self._adapter(data)
        body = {"query": document, "variables": dict(variables or {})}
        first = (variables or {}).get("first")
        key = (document, first if isinstance(first, int) else None)
        for _ in range(1 + self.max_throttle_retries):
            response = await self.http.post(self.path, json=body, cost=self.estimate(document, variables))
            try:
                envelope: Envelope[DataT] = adapter.validate_json(response.content)
            except ValidationError as exc:
                raise self._error(f"unreadable GraphQL response ({exc.error_count()} problems)", response) from None
            cost = envelope.extensions.cost if envelope.extensions else None
            if cost is not None:
                self.last_cost = cost
                if cost.requested_query_cost is not None:
                    self._requested[key] = cost.requested_query_cost
                self._sync(cost)
            if not any(error.code == "THROTTLED" for error in envelope.errors):
                self._raise_for_errors(envelope.errors, response)
                if envelope.data is None:
                    raise self._error("GraphQL response without data", response)
                return envelope.data
            self._throttled(cost, document)
        raise ShopifyThrottledError(
            f"shopify: still THROTTLED after {1 + self.max_throttle_retries} attempts",
            status=200,
            method="POST",
            url=self.http.redactor.url(str(self.path)),
            platform="shopify",
        )

    async def shop_info(self) -> ShopInfoData:
        """The shop's name, currency, plan and the app's granted access scopes (for ``check``)."""
        return await self.execute(SHOP_INFO, ShopInfoData)

    def raise_for_user_errors(self, errors: Sequence[UserError], what: str) -> None:
        """Turn a mutation's ``userErrors`` into a :class:`ShopifyGraphQLError` (messages redacted)."""
        if not errors:
            return
        text = "; ".join(self.http.redactor.text(e.message) for e in errors)
        raise ShopifyGraphQLError(
            f"shopify: {what} refused: {text}",
            codes=[e.code for e in errors if e.code],
            status=200,
            method="POST",
            url=self.path,
            platform="shopify",
        )

    # ------------------------------------------------------------------ internals

    def _adapter(self, data: type[DataT]) -> TypeAdapter[Envelope[DataT]]:
        adapter = self._adapters.get(data)
        if adapter is None:
            adapter = self._adapters[data] = TypeAdapter(Envelope[data])  # type: ignore[valid-type]
        return adapter

    def _sync(self, cost: QueryCost) -> None:
        status = cost.throttle_status
        if status is not None and status.maximum_available > 0 and status.restore_rate > 0:
            self.limiter.sync(status.currently_available, status.maximum_available, status.restore_rate)

    def _throttled(self, cost: QueryCost | None, document: str) -> None:
        # The wait itself happens in the limiter: after _sync() its level is currentlyAvailable, so
        # the next acquire(requested) sleeps exactly (requested - currentlyAvailable) / restoreRate.
        self.throttled += 1
        status = cost.throttle_status if cost else None
        requested = cost.requested_query_cost if cost and cost.requested_query_cost else None
        wait = None
        if status is not None and requested is not None and status.restore_rate > 0:
            wait = max(0.0, (requested + PACING_MARGIN - status.currently_available) / status.restore_rate)
        operation = document.split("{", 1)[0].strip() or "query"
        _log.warning(
            "shopify %s: THROTTLED although paced by the cost bucket: this is a pacing bug "
            "(requested %s, available %s); retrying after %s s",
            operation,
            requested,
            status.currently_available if status else None,
            f"{wait:.2f}" if wait is not None else "the limiter's wait",
            extra={"platform": "shopify", "account": self.settings.shop},
        )

    def _raise_for_errors(self, errors: Sequence[GraphQLError], response: httpx.Response) -> None:
        if not errors:
            return
        distinct = list(dict.fromkeys(self.http.redactor.text(e.message) for e in errors))
        message = "; ".join(distinct[:3]) + (f" (and {len(distinct) - 3} more)" if len(distinct) > 3 else "")
        codes = list(dict.fromkeys(e.code for e in errors if e.code))
        denied = next((e for e in errors if e.code == "ACCESS_DENIED"), None)
        if denied is not None:
            hint = (denied.extensions.required_access if denied.extensions else None) or denied.message
            scope_match = _SCOPE.search(hint or "")
            scope = scope_match.group(0) if scope_match else None
            suffix = f" (missing scope {scope})" if scope else ""
            raise ShopifyAccessDeniedError(
                f"shopify: access denied{suffix}: {message}", scope=scope, **self._origin(response)
            )
        raise self._error(f"GraphQL errors [{', '.join(codes) or 'no code'}]: {message}", response, codes)

    def _error(self, message: str, response: httpx.Response, codes: Sequence[str] = ()) -> ShopifyGraphQLError:
        return ShopifyGraphQLError(f"shopify: {message}", codes=codes, **self._origin(response))

    def _origin(self, response: httpx.Response) -> dict[str, Any]:
        """Where an error came from, as every RemoteAPIError records it (URL redacted)."""
        return {
            "status": response.status_code,
            "method": "POST",
            "url": self.http.redactor.url(str(response.request.url)),
            "platform": "shopify",
        }

    def _on_http_response(self, response: httpx.Response) -> None:
        # A 429 may still carry the bucket (community reports differ on THROTTLED's status code);
        # sync from it so the core layer's retry waits on an accurate bucket. 200s sync in execute().
        if response.status_code != 429:
            return
        try:
            envelope = self._adapter(object).validate_json(response.content)
        except (ValidationError, httpx.ResponseNotRead):  # not JSON, or a stream not read yet
            return
        if envelope.extensions and envelope.extensions.cost:
            self._sync(envelope.extensions.cost)
