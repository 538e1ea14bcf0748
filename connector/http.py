"""The one async HTTP layer every platform client uses.

:class:`HttpClient` wraps one ``httpx.AsyncClient`` per platform account and adds what every
connector needs and none should write again:

* explicit timeouts, pooled keep-alive connections and our user agent;
* pacing: ``limiter.acquire(cost)`` before every attempt, retries included; a 429 with
  ``Retry-After`` pauses the whole account's limiter, not only the request that got it;
* one tenacity retry policy, sleeping on the injected clock, for transient failures only
  (408, 429, 5xx, timeouts, dropped connections);
* errors from :mod:`connector.errors`, classified by the pure :func:`~connector.retry.classify`;
  their messages, URLs and excerpts, and every log line, go through the client's
  :class:`~connector.redact.Redactor`. Bodies are never logged;
* :class:`RequestStats` counters, for reporting API requests per platform;
* :meth:`HttpClient.stream` for bodies too large to hold (bulk exports): the same pacing, errors
  and redaction, with retries only until the response is established.

A request to an absolute URL on another origin (e.g. a Shopify bulk-export download) is sent
without the client's auth and secret headers, so a token never travels to a third party.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
import tenacity

from connector import __version__
from connector.clock import Clock, SystemClock
from connector.errors import (
    ConnectorError,
    NetworkError,
    RemoteAPIError,
    RetriesExhaustedError,
    TransientError,
)
from connector.ratelimit import RateLimiter
from connector.redact import SECRET_NAMES, Redactor
from connector.retry import Outcome, RetryPolicy, build_retrying, classify, error_for, parse_retry_after

__all__ = [
    "DEFAULT_TIMEOUT",
    "USER_AGENT",
    "HttpClient",
    "Outcome",
    "RequestStats",
    "RetryPolicy",
    "classify",
    "parse_retry_after",
]

USER_AGENT = f"connector/{__version__} (+https://github.com/connector-dev/connector)"
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=30.0)

_Scalar = str | int | float | bool | None
QueryParams = Mapping[str, _Scalar | Sequence[_Scalar]]


@dataclass
class RequestStats:
    """Counters for one client, i.e. one platform account."""

    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    retries: int = 0
    rate_limited: int = 0
    network_errors: int = 0


@dataclass
class _Call:
    """What one logical request (all its attempts) needs to know; lives as long as the request."""

    method: str
    url: str  # redacted
    redactor: Redactor
    cost: float
    expected: Collection[int]
    foreign: bool
    last_reason: str = ""


class HttpClient:
    """An async HTTP client for one platform account: pacing, retries, redacted errors and logs."""

    def __init__(
        self,
        *,
        base_url: str,
        platform: str,
        account: str,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        secrets: Iterable[str] = (),
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        user_agent: str | None = None,
        verify: bool = True,
        max_connections: int = 10,
        logger: logging.Logger | None = None,
        on_response: Callable[[httpx.Response], None] | None = None,
    ) -> None:
        """Create the client; ``on_response`` sees every response (any status), e.g. to sync budgets."""
        self.platform = platform
        self.account = account
        self.limiter = limiter
        self.retry_policy = retry or RetryPolicy()
        self.stats = RequestStats()
        self._clock: Clock = clock or SystemClock()
        self._logger = logger or logging.getLogger("connector.http")
        self._on_response = on_response
        self._log_extra = {"platform": platform, "account": account}
        headers = dict(headers or {})
        # Remember which default headers are secret, to keep them off requests to other origins.
        self._secret_headers = {k.lower() for k in headers if k.lower() in SECRET_NAMES}
        password = httpx.URL(base_url).password  # userinfo in the base URL is a credential too
        self._redactor = Redactor([*secrets, *_secret_values(headers.items()), *filter(None, [password])])
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers={"User-Agent": user_agent or USER_AGENT, **headers},
            auth=auth,
            timeout=timeout or DEFAULT_TIMEOUT,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            transport=transport,
            verify=verify,
        )

    def __repr__(self) -> str:
        base = self._redactor.url(str(self._client.base_url))
        return f"HttpClient(platform={self.platform!r}, account={self.account!r}, base_url={base!r})"

    @property
    def redactor(self) -> Redactor:
        """The redactor that knows this client's secrets; connectors use it for their own messages."""
        return self._redactor

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeouts every request gets."""
        return self._client.timeout

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: QueryParams | None = None,
        json: Any = None,
        content: str | bytes | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        cost: float = 1.0,
        expected: Collection[int] = (),
    ) -> httpx.Response:
        """Send a request, pacing and retrying under the client's limiter and policy.

        Args:
            method: the HTTP method.
            path_or_url: a path relative to ``base_url``, or an absolute URL.
            params, json, content, data, headers: as for ``httpx``; bodies must be re-sendable.
            cost: tokens to take from the limiter before each attempt.
            expected: error statuses the caller handles itself; their responses are returned.

        Returns:
            The response, body already read, for a 2xx/3xx or an ``expected`` status.

        Raises:
            AuthError, NotFoundError, RemoteAPIError: after one attempt, for 401/403, 404, other 4xx.
            RetriesExhaustedError: a transient failure (429, 408, 5xx, network) outlived the policy.
            ConnectorError: the request could not be sent at all (e.g. an unsupported URL scheme).
        """
        retrying, once = self._prepare(
            method, path_or_url, params=params, json=json, content=content, data=data, headers=headers,
            cost=cost, expected=expected, stream=False,
        )
        return await retrying(once)

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        path_or_url: str,
        *,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
        cost: float = 1.0,
        expected: Collection[int] = (),
        secrets: Iterable[str] = (),
    ) -> AsyncIterator[httpx.Response]:
        """Open a response whose body is read incrementally, e.g. a multi-gigabyte export file.

        Pacing, redaction, error mapping and the foreign-origin rule are those of :meth:`request`.
        Retries cover only *establishing* the response (connect, status line, headers): once the
        caller reads the body, a dropped connection is raised as :class:`NetworkError` and not
        retried, because a half-consumed stream cannot be replayed without duplicating what the
        caller already saw. ``secrets`` are further values to keep out of errors and logs, e.g. the
        signature of a pre-signed download URL, which is a credential in its own right.

        Usage::

            async with client.stream("GET", url) as response:
                async for line in response.aiter_lines():
                    ...

        Raises:
            As :meth:`request` when opening; NetworkError when the body breaks off while read.
        """
        secrets = tuple(secrets)  # used twice: for opening, and for a break-off while reading
        retrying, once = self._prepare(
            method, path_or_url, params=params, json=None, content=None, data=None, headers=headers,
            cost=cost, expected=expected, stream=True, secrets=secrets,
        )
        response: httpx.Response = await retrying(once)
        try:
            yield response
        except httpx.HTTPError as exc:
            redactor = self._redactor.with_secrets(secrets)
            call_url = redactor.url(str(response.request.url))
            reason = f"{type(exc).__name__}: {redactor.text(str(exc))}".rstrip(": ")
            self.stats.network_errors += 1
            message = f"{self.platform} stream broke off: {method.upper()} {call_url}: {reason}"
            raise NetworkError(message, method=method.upper(), url=call_url) from None
        finally:
            await response.aclose()

    def _prepare(
        self,
        method: str,
        path_or_url: str,
        *,
        params: QueryParams | None,
        json: Any,
        content: str | bytes | None,
        data: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        cost: float,
        expected: Collection[int],
        stream: bool,
        secrets: Iterable[str] = (),
    ) -> tuple[tenacity.AsyncRetrying, Callable[[], Awaitable[httpx.Response]]]:
        """The retrying policy and the one-attempt coroutine for one logical request."""
        first = self._client.build_request(method.upper(), path_or_url, params=params, headers=headers)
        extra = [*secrets, *_secret_values((headers or {}).items()), *_secret_values(first.url.params.items())]
        redactor = self._redactor.with_secrets(extra) if extra else self._redactor
        call = _Call(
            method=method.upper(),
            url=redactor.url(str(first.url)),
            redactor=redactor,
            cost=cost,
            expected=expected,
            foreign=not _same_origin(first.url, self._client.base_url),
        )
        attempt = 0

        def build() -> httpx.Request:
            # A fresh request per attempt: httpx requests are not meant to be sent twice.
            request = self._client.build_request(
                call.method,
                path_or_url,
                params=params,
                json=json,
                content=content,
                data=data,
                headers=headers,
            )
            if call.foreign:
                for name in self._secret_headers - {k.lower() for k in headers or {}}:
                    request.headers.pop(name, None)
            return request

        async def once() -> httpx.Response:
            nonlocal attempt
            attempt += 1
            return await self._attempt(build(), call, attempt, stream=stream)

        retrying = build_retrying(
            self.retry_policy,
            sleep=self._clock.sleep,
            before_sleep=lambda state: self._before_sleep(state, call),
            give_up=lambda state: self._give_up(state, call),
        )
        return retrying, once

    async def get(self, path_or_url: str, **kwargs: Any) -> httpx.Response:
        """``request("GET", ...)``."""
        return await self.request("GET", path_or_url, **kwargs)

    async def post(self, path_or_url: str, **kwargs: Any) -> httpx.Response:
        """``request("POST", ...)``."""
        return await self.request("POST", path_or_url, **kwargs)

    async def put(self, path_or_url: str, **kwargs: Any) -> httpx.Response:
        """``request("PUT", ...)``."""
        return await self.request("PUT", path_or_url, **kwargs)

    async def delete(self, path_or_url: str, **kwargs: Any) -> httpx.Response:
        """``request("DELETE", ...)``."""
        return await self.request("DELETE", path_or_url, **kwargs)

    async def _attempt(
        self, request: httpx.Request, call: _Call, attempt: int, *, stream: bool = False
    ) -> httpx.Response:
        if self.limiter is not None:
            await self.limiter.acquire(call.cost)
        started = self._clock.monotonic()
        self.stats.requests += 1
        try:
            # auth=None on a foreign origin: never hand our credentials to someone else's server.
            if call.foreign:
                response = await self._client.send(request, auth=None, stream=stream)
            else:
                response = await self._client.send(request, stream=stream)
        except httpx.HTTPError as exc:
            reason = f"{type(exc).__name__}: {call.redactor.text(str(exc))}".rstrip(": ")
            self._debug(call, reason, started, attempt)
            if classify(None, exc) is Outcome.RETRY:
                self.stats.network_errors += 1
                call.last_reason = type(exc).__name__
                message = f"{self.platform} network error: {call.method} {call.url}: {reason}"
                raise NetworkError(message, method=call.method, url=call.url) from None
            message = f"{self.platform} request failed: {call.method} {call.url}: {reason}"
            raise ConnectorError(message) from None

        status = response.status_code
        self.stats.by_status[status] += 1
        self._debug(call, str(status), started, attempt)
        if self._on_response is not None:
            self._on_response(response)
        outcome = classify(status, None, expected=call.expected)
        if outcome is Outcome.OK:
            return response
        if stream:
            # An error body is small: read it for the (redacted) excerpt, then free the connection.
            try:
                await response.aread()
            except httpx.HTTPError:
                pass  # the status alone classifies the error; the excerpt is only a courtesy
            finally:
                await response.aclose()
        raise self._status_error(outcome, response, call)

    def _status_error(self, outcome: Outcome, response: httpx.Response, call: _Call) -> RemoteAPIError:
        status = response.status_code
        call.last_reason = f"{status} {response.reason_phrase}".strip()
        retry_after = None
        if outcome is Outcome.RATE_LIMITED:
            self.stats.rate_limited += 1
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock.now())
            if retry_after is not None and self.limiter is not None:
                # Everyone on this account backs off, not only the request that was told to.
                self.limiter.pause(min(retry_after, self.retry_policy.max_retry_after))
        return error_for(
            outcome,
            platform=self.platform,
            status=status,
            method=call.method,
            url=call.url,
            excerpt=call.redactor.excerpt(response.content),
            retry_after=retry_after,
        )

    def _debug(self, call: _Call, result: str, started: float, attempt: int) -> None:
        elapsed_ms = (self._clock.monotonic() - started) * 1000
        self._logger.debug(
            "%s %s -> %s in %.0f ms (attempt %d)",
            call.method,
            call.url,
            result,
            elapsed_ms,
            attempt,
            extra=self._log_extra,
        )

    def _before_sleep(self, state: tenacity.RetryCallState, call: _Call) -> None:
        self.stats.retries += 1
        wait = state.upcoming_sleep
        self._logger.warning(
            "%s %s failed (%s); retrying in %.2f s (attempt %d of %d)",
            call.method,
            call.url,
            call.last_reason,
            wait,
            state.attempt_number + 1,
            self.retry_policy.max_attempts,
            extra=self._log_extra,
        )

    def _give_up(self, state: tenacity.RetryCallState, call: _Call) -> None:
        # Only TransientErrors are retried, so only they can reach the point of giving up.
        last = cast(TransientError, state.outcome.exception() if state.outcome else None)
        message = (
            f"{self.platform}: gave up on {call.method} {call.url} after {state.attempt_number} "
            f"attempt(s); last: {call.last_reason}"
        )
        self._logger.warning("%s", message, extra=self._log_extra)
        raise RetriesExhaustedError(message, attempts=state.attempt_number, last_error=last) from last


def _secret_values(pairs: Iterable[tuple[str, str]]) -> Iterator[str]:
    """Values of secret-named headers or parameters, plus the credential after an auth scheme."""
    for name, value in pairs:
        if name.lower() in SECRET_NAMES and value:
            yield value
            scheme, _, credential = value.partition(" ")
            if credential:
                yield credential.strip()


def _same_origin(url: httpx.URL, base: httpx.URL) -> bool:
    return (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)
