"""The token-bucket limiter, driven by a ManualClock so no test really waits."""

from __future__ import annotations

import asyncio

import pytest

from connector.clock import ManualClock
from connector.ratelimit import RateLimiter


def _limiter(rate: float = 5, capacity: float = 5) -> tuple[RateLimiter, ManualClock]:
    clock = ManualClock()
    return RateLimiter(rate, capacity, clock=clock, name="test"), clock


async def test_bucket_starts_full_and_a_burst_of_capacity_is_free() -> None:
    limiter, clock = _limiter(rate=5, capacity=5)
    for _ in range(5):
        await limiter.acquire()
    assert clock.sleeps == []
    assert limiter.available == pytest.approx(0.0)


async def test_twelve_acquires_at_five_per_second_take_1_4_seconds() -> None:
    # 5 free from the full bucket, then 7 more at one every 0.2 s.
    limiter, clock = _limiter(rate=5, capacity=5)
    start = clock.monotonic()
    for _ in range(12):
        await limiter.acquire()
    assert len(clock.sleeps) == 7
    assert clock.sleeps == pytest.approx([0.2] * 7)
    assert sum(clock.sleeps) == pytest.approx(1.4)
    assert clock.monotonic() - start == pytest.approx(1.4)


async def test_cost_weighted_acquire_waits_for_the_missing_tokens() -> None:
    limiter, clock = _limiter(rate=100, capacity=1000)  # Shopify-like points bucket
    await limiter.acquire(900)
    await limiter.acquire(300)  # 100 left, 200 missing at 100/s
    assert clock.sleeps == pytest.approx([2.0])
    assert limiter.available == pytest.approx(0.0)


async def test_refill_never_exceeds_capacity() -> None:
    limiter, clock = _limiter(rate=5, capacity=5)
    await limiter.acquire(5)
    clock.advance(3600)
    assert limiter.available == 5


async def test_cost_above_capacity_raises() -> None:
    limiter, clock = _limiter(rate=5, capacity=5)
    with pytest.raises(ValueError, match="exceeds capacity"):
        await limiter.acquire(5.5)
    with pytest.raises(ValueError, match="negative"):
        await limiter.acquire(-1)
    assert clock.sleeps == []
    assert limiter.available == 5


@pytest.mark.parametrize(("rate", "capacity"), [(0, 5), (5, 0), (-1, 5), (float("nan"), 5)])
def test_rate_and_capacity_must_be_positive(rate: float, capacity: float) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        RateLimiter(rate, capacity, clock=ManualClock())


async def test_pause_makes_acquirers_wait_even_with_tokens_left() -> None:
    limiter, clock = _limiter(rate=5, capacity=5)
    limiter.pause(7)
    await limiter.acquire()
    assert clock.sleeps == [7.0]
    assert limiter.available == pytest.approx(4.0)


async def test_pause_until_never_shortens_a_pause() -> None:
    limiter, clock = _limiter()
    now = clock.monotonic()
    limiter.pause_until(now + 10)
    limiter.pause_until(now + 3)
    await limiter.acquire()
    assert clock.sleeps == [10.0]


async def test_pause_in_the_past_costs_nothing() -> None:
    limiter, clock = _limiter()
    limiter.pause(-5)
    limiter.pause_until(clock.monotonic() - 1)
    await limiter.acquire()
    assert clock.sleeps == []


async def test_pause_holds_back_concurrent_waiters() -> None:
    limiter, clock = _limiter(rate=5, capacity=5)
    limiter.pause(2)
    done_at: list[float] = []

    async def worker() -> None:
        await limiter.acquire()
        done_at.append(clock.monotonic())

    await asyncio.gather(*(worker() for _ in range(3)))
    start = 1000.0  # ManualClock's monotonic start
    assert done_at == [start + 2, start + 2, start + 2]


def test_sync_clamps_to_capacity_and_zero() -> None:
    limiter, _ = _limiter(rate=5, capacity=5)
    limiter.sync(50)
    assert limiter.available == 5
    limiter.sync(-3)
    assert limiter.available == 0


def test_sync_adopts_the_platform_bucket() -> None:
    # Shopify throttleStatus: currentlyAvailable 1500 of maximumAvailable 2000, restoreRate 100.
    limiter, clock = _limiter(rate=50, capacity=1000)
    limiter.sync(1500, capacity=2000, rate=100)
    assert (limiter.available, limiter.capacity, limiter.rate) == (1500, 2000, 100)
    clock.advance(3)
    assert limiter.available == 1800
    limiter.sync(2500, capacity=2000)
    assert limiter.available == 2000


def test_sync_rejects_a_nonsense_budget() -> None:
    limiter, _ = _limiter()
    with pytest.raises(ValueError):
        limiter.sync(1, capacity=0)
    with pytest.raises(ValueError):
        limiter.sync(1, rate=-1)


async def test_sync_to_empty_makes_the_next_acquire_wait() -> None:
    # Brevo says x-sib-ratelimit-remaining: 0 -> we wait one token's refill (1/10 s).
    limiter, clock = _limiter(rate=10, capacity=10)
    limiter.sync(0)
    await limiter.acquire()
    assert clock.sleeps == pytest.approx([0.1])


async def test_concurrent_waiters_are_served_in_order() -> None:
    limiter, clock = _limiter(rate=5, capacity=1)
    start = clock.monotonic()
    order: list[int] = []

    async def worker(i: int) -> None:
        await limiter.acquire()
        order.append(i)

    tasks = [asyncio.create_task(worker(i)) for i in range(10)]
    await asyncio.gather(*tasks)
    assert order == list(range(10))
    # The first is free, the other nine wait 0.2 s each, one after the other.
    assert clock.monotonic() - start == pytest.approx(1.8)
    assert sum(clock.sleeps) == pytest.approx(1.8)


def test_repr_names_the_limiter() -> None:
    limiter, _ = _limiter(rate=5, capacity=5)
    assert repr(limiter) == "RateLimiter(name='test', rate=5/s, capacity=5, available=5)"
