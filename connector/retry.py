"""Error classification and the one retry policy, kept apart from the HTTP loop that uses them.

:func:`classify` is a pure function from "what happened" (a status code or an exception) to an
:class:`Outcome`; :class:`RetryPolicy` says how long a transient failure may be retried;
:func:`build_retrying` turns a policy into a ``tenacity.AsyncRetrying`` that sleeps on the
injected clock. :mod:`connector.http` wires them together; connectors never write a retry loop.
"""

from __future__ import annotations

import email.utils
import enum
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import tenacity

from connector.errors import (
    AuthError,
    NotFoundError,
    RateLimitedError,
    RemoteAPIError,
    ServerError,
    TransientError,
)

__all__ = ["Outcome", "RetryPolicy", "build_retrying", "classify", "error_for", "parse_retry_after"]


class Outcome(enum.Enum):
    """What one HTTP attempt amounts to."""

    OK = "ok"
    RETRY = "retry"
    RATE_LIMITED = "rate_limited"
    AUTH = "auth"
    NOT_FOUND = "not_found"
    FAIL = "fail"


# Exceptions after which the same request may well succeed: the server never answered, or hung up.
# RemoteProtocolError is listed for clarity; it is a dropped keep-alive connection, not a bad request.
_RETRYABLE_EXCEPTIONS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def classify(status: int | None, exc: BaseException | None, *, expected: Collection[int] = ()) -> Outcome:
    """Classify one attempt by its status code or the exception it raised.

    Args:
        status: the response status, or ``None`` when no response arrived.
        exc: the exception raised instead of a response; it wins over ``status``.
        expected: statuses the caller handles itself (e.g. 404 or 422); they count as OK.

    Returns:
        The :class:`Outcome`; the caller maps it to an error from :mod:`connector.errors`.
    """
    if exc is not None:
        return Outcome.RETRY if isinstance(exc, _RETRYABLE_EXCEPTIONS) else Outcome.FAIL
    if status is None:
        return Outcome.FAIL
    if status in expected or 200 <= status < 400:
        return Outcome.OK
    if status == 429:
        return Outcome.RATE_LIMITED
    if status == 408 or 500 <= status <= 599:
        return Outcome.RETRY
    if status in (401, 403):
        return Outcome.AUTH
    if status == 404:
        return Outcome.NOT_FOUND
    return Outcome.FAIL


_ERROR_CLASSES: dict[Outcome, type[RemoteAPIError]] = {
    Outcome.RETRY: ServerError,
    Outcome.AUTH: AuthError,
    Outcome.NOT_FOUND: NotFoundError,
    Outcome.FAIL: RemoteAPIError,
}


def error_for(
    outcome: Outcome,
    *,
    platform: str,
    status: int,
    method: str,
    url: str,
    excerpt: str,
    retry_after: float | None = None,
) -> RemoteAPIError:
    """The error for a response that :func:`classify` did not call OK.

    ``url`` and ``excerpt`` must already be redacted: they go into the message as they are.
    """
    message = f"{platform} API error: {status} {method} {url}" + (f": {excerpt}" if excerpt else "")
    fields = {"status": status, "method": method, "url": url, "excerpt": excerpt, "platform": platform}
    if outcome is Outcome.RATE_LIMITED:
        return RateLimitedError(message, retry_after=retry_after, **fields)
    if outcome is Outcome.OK:
        raise ValueError("an OK outcome is not an error")
    return _ERROR_CLASSES[outcome](message, **fields)  # type: ignore[arg-type]


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date.

    Args:
        value: the raw header value, or ``None`` when absent.
        now: the current time (timezone-aware), to turn an HTTP-date into a delay.

    Returns:
        The delay in seconds, never negative (a date in the past means "now"), or ``None`` when
        the header is missing or unparsable.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive parse means "-0000"
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How long transient failures are retried.

    Attributes:
        max_attempts: attempts in all, the first one included.
        initial_wait: the first backoff wait, doubled after each further failure.
        max_wait: the cap of one backoff wait.
        max_total_wait: give up rather than let the waits of one request add up past this.
        max_retry_after: the cap on a platform's ``Retry-After``.
        jitter: draw each backoff uniformly from ``[0, wait]`` ("full jitter") so that many
            clients failing together do not retry together.
    """

    max_attempts: int = 6
    initial_wait: float = 0.5
    max_wait: float = 60.0
    max_total_wait: float = 300.0
    max_retry_after: float = 600.0
    jitter: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        for name in ("initial_wait", "max_wait", "max_total_wait", "max_retry_after"):
            if getattr(self, name) < 0:
                raise ValueError(f"RetryPolicy.{name} must not be negative")


def build_retrying(
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Any],
    before_sleep: Callable[[tenacity.RetryCallState], None],
    give_up: Callable[[tenacity.RetryCallState], Any],
) -> tenacity.AsyncRetrying:
    """A fresh ``AsyncRetrying`` for one request under ``policy``.

    Args:
        policy: the limits.
        sleep: the awaitable sleep to use (the client's clock), so tests never really wait.
        before_sleep: called before each wait, e.g. to log the retry.
        give_up: called instead of raising tenacity's ``RetryError`` when the policy stops; it
            is expected to raise the connector's own error.
    """
    if policy.jitter:
        backoff: tenacity.wait.wait_base = tenacity.wait_random_exponential(
            multiplier=policy.initial_wait, max=policy.max_wait
        )
    else:
        backoff = tenacity.wait_exponential(multiplier=policy.initial_wait, max=policy.max_wait)

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        # The platform's own Retry-After beats our guess; waiting less just earns another 429.
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            return min(exc.retry_after, policy.max_retry_after)
        return float(backoff(state))

    def stop(state: tenacity.RetryCallState) -> bool:
        # tenacity computes the wait before asking whether to stop, so upcoming_sleep is known:
        # give up now rather than sleep and still run out of budget.
        return (
            state.attempt_number >= policy.max_attempts
            or state.idle_for + state.upcoming_sleep > policy.max_total_wait
        )

    return tenacity.AsyncRetrying(
        sleep=sleep,
        retry=tenacity.retry_if_exception_type(TransientError),
        wait=wait,
        stop=stop,
        before_sleep=before_sleep,
        retry_error_callback=give_up,
    )
