"""A WooCommerce REST API v3 client on the core HTTP layer: authentication, politeness, list pages.

**Authentication** (``settings.auth``), as WooCommerce accepts it:

* ``basic``: HTTP Basic with the consumer key and secret. WooCommerce accepts it **only when
  WordPress sees HTTPS**.
* ``query``: ``consumer_key`` and ``consumer_secret`` as query parameters, also HTTPS only. For
  hosts whose web server or security plugin strips the ``Authorization`` header.
* ``oauth1``: OAuth 1.0a one-legged signatures (HMAC-SHA256, parameters in the query string), the
  only key authentication WooCommerce accepts over plain HTTP. The keys never travel, but the
  data does, unencrypted: a warning says so once.
* ``auto`` (default): ``oauth1`` for an ``http://`` shop; for ``https://``, ``basic`` and, when
  the shop answers 401 "you cannot list resources" (no user authenticated: the header never
  reached WordPress), ``query`` from then on, with a warning naming the cause. A 401 that names
  the keys ("Consumer secret is invalid.") is not retried another way: the keys are wrong.

**Politeness**: at most ``settings.concurrency`` requests in flight and at most
``settings.max_requests_per_second`` started per second (one limiter for the account; a host's
429 with ``Retry-After`` pauses it). Retries of 429/5xx/timeouts are the core layer's.

Secrets are handed to the HTTP layer's redactor, so neither the key nor the secret (nor an OAuth
signature) appears in an error, a log line or a repr.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_QUERY
from oauthlib.oauth1 import Client as OAuth1Signer

from connector.clock import Clock, SystemClock
from connector.errors import AuthError, RemoteAPIError
from connector.http import HttpClient
from connector.ratelimit import RateLimiter
from connectors.woocommerce.settings import WooCommerceSettings

__all__ = ["API_PATH", "AuthMode", "ListPage", "WooCommerceClient", "WooCommerceKeyAuth", "record_id", "record_ids"]

API_PATH = "/wp-json/wc/v3"
AuthMode = Literal["basic", "query", "oauth1"]
# Unparseable 200 bodies (a proxy cutting a response short) are re-requested this many times.
MALFORMED_RETRIES = 2
# WordPress's answer when no user was authenticated at all: with Basic over HTTPS, the
# Authorization header did not reach PHP.
_NOBODY = frozenset({"woocommerce_rest_cannot_view", "woocommerce_rest_authentication_missing"})
_log = logging.getLogger("connectors.woocommerce")


class WooCommerceKeyAuth(httpx.Auth):
    """Adds the REST API keys to each request the way ``mode`` says; the mode may change at run time.

    A fresh OAuth timestamp and nonce are used for every attempt (WooCommerce refuses a reused
    nonce and a timestamp more than 15 minutes off), the timestamp taken from the injected clock.
    """

    def __init__(self, key: str, secret: str, mode: AuthMode, clock: Clock) -> None:
        self._key = key
        self._secret = secret
        self.mode: AuthMode = mode
        self._clock = clock

    def __repr__(self) -> str:
        return f"WooCommerceKeyAuth(mode={self.mode!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.mode == "basic":
            token = base64.b64encode(f"{self._key}:{self._secret}".encode()).decode("ascii")
            request.headers["Authorization"] = f"Basic {token}"
        elif self.mode == "query":
            request.url = request.url.copy_merge_params({"consumer_key": self._key, "consumer_secret": self._secret})
        else:
            request.url = httpx.URL(self._signed(request))
        yield request

    def _signed(self, request: httpx.Request) -> str:
        signer = OAuth1Signer(
            self._key,
            client_secret=self._secret,
            signature_method=SIGNATURE_HMAC_SHA256,
            signature_type=SIGNATURE_TYPE_QUERY,
            timestamp=str(int(self._clock.now().timestamp())),
            nonce=secrets.token_hex(16),
        )
        uri, _headers, _body = signer.sign(str(request.url), http_method=request.method)
        return str(uri)


@dataclass(frozen=True, slots=True)
class ListPage:
    """One list response: its records (the body, parsed once) and the totals WordPress reported."""

    records: list[Any]
    total: int | None
    total_pages: int | None

    def items(self) -> list[Any]:
        """The records of the page (the body's JSON array)."""
        return self.records


def record_id(item: object) -> int | None:
    """The ``id`` of one raw list record, if it has an integer one."""
    value = item.get("id") if isinstance(item, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def record_ids(items: Iterable[object]) -> list[int]:
    """The integer ids of raw list records, in order (records without one are skipped)."""
    return [key for key in map(record_id, items) if key is not None]


def _json_array(content: bytes) -> list[Any]:
    """The body as a JSON array.

    Raises:
        ValueError: the body is not JSON, or not an array.
    """
    data = json.loads(content)
    if not isinstance(data, list):
        raise ValueError(f"expected a JSON array, got {type(data).__name__}")
    return data


def initial_mode(settings: WooCommerceSettings) -> AuthMode:
    """The authentication to start with (see the module docstring)."""
    if settings.auth != "auto":
        return settings.auth
    return "oauth1" if settings.url.scheme == "http" else "basic"


class WooCommerceClient:
    """The shop's REST API: list pages and single records, authenticated and paced.

    Attributes:
        http: the core HTTP client (stats, redactor).
        auth: the key authentication in use (its ``mode`` may switch from basic to query).
    """

    def __init__(
        self,
        settings: WooCommerceSettings,
        *,
        account: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.settings = settings
        self.account = account
        self.clock: Clock = clock or SystemClock()
        key, secret = settings.consumer_key.get_secret_value(), settings.consumer_secret.get_secret_value()
        self.auth = WooCommerceKeyAuth(key, secret, initial_mode(settings), self.clock)
        self._fallback = settings.auth == "auto" and self.auth.mode == "basic"
        self.limiter = limiter or RateLimiter(
            settings.max_requests_per_second, max(1.0, float(settings.concurrency)), clock=self.clock,
            name=f"woocommerce:{account}",
        )
        self._slots = asyncio.Semaphore(settings.concurrency)
        root = str(settings.url).rstrip("/") + API_PATH
        self.http = HttpClient(
            base_url=root,
            platform="woocommerce",
            account=account,
            auth=self.auth,
            secrets=[key, secret],
            limiter=self.limiter,
            clock=self.clock,
            transport=transport,
            verify=settings.verify_tls,
            max_connections=settings.concurrency,
            timeout=httpx.Timeout(settings.timeout_seconds, connect=min(10.0, settings.timeout_seconds)),
        )
        if self.auth.mode == "oauth1" and settings.url.scheme == "http":
            _log.warning(
                "woocommerce %s: the shop is on plain HTTP; keys are sent as OAuth 1.0a signatures, but the "
                "customer data travels unencrypted. Use https:// if the shop supports it.",
                account, extra={"platform": "woocommerce", "account": account},
            )

    def __repr__(self) -> str:
        return f"WooCommerceClient(account={self.account!r}, url={str(self.settings.url)!r}, auth={self.auth.mode!r})"

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self.http.aclose()

    async def list(self, resource: str, params: Mapping[str, str | int]) -> ListPage:
        """``GET /<resource>`` with ``params``: the raw page and its ``X-WP-Total``/``X-WP-TotalPages``.

        Raises:
            AuthError: the keys were refused (message says what WooCommerce said and what to do).
            RemoteAPIError: another error answer, or a body that is not a JSON array even after re-requests.
            RetriesExhaustedError: a transient failure outlived the retry policy.
        """
        for attempt in range(1 + MALFORMED_RETRIES):
            response = await self._get(f"/{resource}", params)
            try:
                records = _json_array(response.content)
            except ValueError as exc:
                if attempt == MALFORMED_RETRIES:
                    raise self._error(f"unreadable list response ({exc})", response) from None
                _log.warning("woocommerce %s: GET /%s returned an unreadable body (%s); asking again",
                             self.account, resource, exc, extra={"platform": "woocommerce", "account": self.account})
                continue
            return ListPage(records, _int_header(response, "X-WP-Total"), _int_header(response, "X-WP-TotalPages"))
        raise AssertionError("unreachable")  # pragma: no cover

    async def get(self, resource: str, record_id: int) -> bytes:
        """``GET /<resource>/<id>``: the raw JSON object.

        Raises:
            NotFoundError: no such record. Others as :meth:`list`.
        """
        response = await self._get(f"/{resource}/{int(record_id)}", {})
        return response.content

    # ------------------------------------------------------------------ internals

    async def _get(self, path: str, params: Mapping[str, str | int]) -> httpx.Response:
        async with self._slots:
            response = await self.http.get(path, params=dict(params), expected=(401,))
            if response.status_code != 401:
                return response
            code, message = _wp_error(response)
            if self._fallback and self.auth.mode == "basic" and code in _NOBODY:
                self._fallback = False
                self.auth.mode = "query"
                _log.warning(
                    "woocommerce %s: the shop ignored HTTP Basic authentication (the web server or a security "
                    "plugin strips the Authorization header); sending the keys as query parameters over HTTPS "
                    "from now on", self.account, extra={"platform": "woocommerce", "account": self.account},
                )
                response = await self.http.get(path, params=dict(params), expected=(401,))
                if response.status_code != 401:
                    return response
                code, message = _wp_error(response)
            self._fallback = False
            raise AuthError(
                f"woocommerce {self.account}: the shop refused the REST API keys ({code or 'no code'}: "
                f"{self.http.redactor.text(message or 'no message')}). Check the consumer key and secret, that the "
                f"key has Read permission, and that its user can manage WooCommerce"
                + (" (over plain HTTP only OAuth 1.0a signatures are accepted)"
                   if self.settings.url.scheme == "http" and self.auth.mode != "oauth1" else ""),
                status=401, method="GET", url=self.http.redactor.url(str(response.request.url)),
                platform="woocommerce",
            )

    def _error(self, message: str, response: httpx.Response) -> RemoteAPIError:
        return RemoteAPIError(
            f"woocommerce {self.account}: {message}", status=response.status_code, method="GET",
            url=self.http.redactor.url(str(response.request.url)), platform="woocommerce",
            excerpt=self.http.redactor.excerpt(response.content),
        )


def _int_header(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _wp_error(response: httpx.Response) -> tuple[str | None, str | None]:
    """(code, message) of a WordPress error body, or Nones when the body is not one."""
    try:
        body = response.json()
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    code, message = body.get("code"), body.get("message")
    return (code if isinstance(code, str) else None, message if isinstance(message, str) else None)


def join_ids(ids: Sequence[int]) -> str:
    """A comma-separated id list for ``include``/``exclude``."""
    return ",".join(str(int(i)) for i in ids)
