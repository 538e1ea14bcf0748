"""A token-bucket rate limiter per platform account, paced by an injected clock.

Every platform client holds one :class:`RateLimiter` per account and awaits
:meth:`RateLimiter.acquire` before each request, so concurrent work on one account shares one
budget: ActiveCampaign's 5 requests a second, Brevo's per-endpoint budgets, Shopify's points bucket.

Why ~100 lines of our own instead of ``aiolimiter`` or ``pyrate-limiter``: we need all of

* an injectable clock *and* sleep, so tests run through minutes of pacing in milliseconds on a
  :class:`connector.clock.ManualClock`;
* cost-weighted acquires (a Shopify GraphQL query costs points, not "one request");
* re-syncing the level from the platform's own budget report (Shopify's ``throttleStatus``,
  Brevo's ``x-sib-ratelimit-remaining``) and pausing everyone after a 429 with ``Retry-After``,

and neither library offers those together.
"""

from __future__ import annotations

import asyncio

from connector.clock import Clock

__all__ = ["RateLimiter"]

# Refill arithmetic in floats leaves crumbs like 0.9999999999; without a tolerance a waiter
# would wake up, find itself a hair short and sleep again for a nanosecond.
_EPSILON = 1e-9


class RateLimiter:
    """An async token bucket: ``rate`` tokens a second refill a bucket of ``capacity``; it starts full.

    Waiters are served first come, first served: one lock queues them, and the waiter at the
    head sleeps until its tokens are there while the rest wait behind it.
    """

    def __init__(self, rate: float, capacity: float, *, clock: Clock, name: str = "") -> None:
        _check_positive(rate=rate, capacity=capacity)
        self.name = name
        self._rate = float(rate)
        self._capacity = float(capacity)
        self._level = float(capacity)
        self._clock = clock
        self._updated = clock.monotonic()
        self._paused_until = float("-inf")
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return (
            f"RateLimiter(name={self.name!r}, rate={self._rate:g}/s, capacity={self._capacity:g}, "
            f"available={self.available:.3g})"
        )

    @property
    def rate(self) -> float:
        """Tokens added per second."""
        return self._rate

    @property
    def capacity(self) -> float:
        """The bucket size: the largest burst and the largest single cost."""
        return self._capacity

    @property
    def available(self) -> float:
        """Tokens available right now, after refilling for the time that passed."""
        self._refill()
        return self._level

    async def acquire(self, cost: float = 1.0) -> None:
        """Wait until ``cost`` tokens are available, then take them.

        Raises:
            ValueError: ``cost`` is negative or larger than the capacity, so it could never be met.
        """
        self._check_cost(cost)
        async with self._lock:
            while True:
                # Re-checked on every pass: sync() may shrink the bucket while we wait.
                self._check_cost(cost)
                self._refill()
                now = self._clock.monotonic()
                if now < self._paused_until:
                    await self._clock.sleep(self._paused_until - now)
                    continue
                if self._level >= cost - _EPSILON:
                    self._level = max(0.0, self._level - cost)
                    return
                await self._clock.sleep((cost - self._level) / self._rate)

    def pause_until(self, monotonic_deadline: float) -> None:
        """Make every acquirer wait at least until ``monotonic_deadline`` (on this limiter's clock).

        Used when one request got a 429 with ``Retry-After``: the whole account backs off, not
        only the request that was told to. An earlier deadline never shortens a pause.
        """
        self._paused_until = max(self._paused_until, monotonic_deadline)

    def pause(self, seconds: float) -> None:
        """Make every acquirer wait at least ``seconds`` from now."""
        self.pause_until(self._clock.monotonic() + max(0.0, seconds))

    def sync(self, available: float, capacity: float | None = None, rate: float | None = None) -> None:
        """Adopt the platform's own view of the budget.

        Args:
            available: tokens the platform says are left (e.g. Shopify ``currentlyAvailable``).
            capacity: the platform's bucket size (``maximumAvailable``), if it reported one.
            rate: the platform's refill rate per second (``restoreRate``), if it reported one.

        The level is clamped to ``[0, capacity]``: a report can be stale or from a bigger plan,
        and trusting it past the bucket size would let a burst through that the server rejects.
        """
        if capacity is not None:
            _check_positive(capacity=capacity)
            self._capacity = float(capacity)
        if rate is not None:
            _check_positive(rate=rate)
            self._rate = float(rate)
        self._updated = self._clock.monotonic()
        self._level = min(max(0.0, float(available)), self._capacity)

    def _refill(self) -> None:
        now = self._clock.monotonic()
        elapsed = max(0.0, now - self._updated)
        self._updated = now
        self._level = min(self._capacity, self._level + elapsed * self._rate)

    def _check_cost(self, cost: float) -> None:
        if cost < 0:
            raise ValueError(f"rate limiter {self.name!r}: cost {cost} is negative")
        if cost > self._capacity:
            raise ValueError(
                f"rate limiter {self.name!r}: cost {cost:g} exceeds capacity {self._capacity:g} "
                "and could never be granted"
            )


def _check_positive(**values: float) -> None:
    for key, value in values.items():
        if not value > 0:  # also rejects NaN
            raise ValueError(f"rate limiter {key} must be positive, got {value!r}")
