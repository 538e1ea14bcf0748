"""The compact indexes of a generated shop, built in one seeded pass.

Everything that decides *where a record sits* (creation and update times, which customer an order
belongs to, an order's status class, whether a cart was completed) is drawn here, once, into
``array``/``bytearray`` columns: about 21 bytes per order and 20 per customer. Everything else
about a record is drawn lazily from a stateless hash when the record is read
(:mod:`connector.sandbox.datagen_build`).

Keys are chronological, as on real platforms: customer, order and cart keys increase with
``created_at`` (ties by key), so ``order_by="created_at"`` is key order, and only the
``updated_at`` order needs a sorted permutation. Times are whole seconds since ``spec.start``.
"""

from __future__ import annotations

import math
import random
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from connector.sandbox.datagen_rand import cumulative, mix64, poisson
from connector.sandbox.records import FinancialValue, StatusValue

__all__ = ["ORDER_CLASSES", "KindIndex", "ShopIndex", "argsort", "build_index", "spread"]

DAY = 86_400
GROWTH = 1.2  # the shop grows: e^1.2 ≈ 3.3x more new customers and orders per day at the end than at the start
NEVER_ORDER_SHARE = 0.25
GUEST_ORDER_SHARE = 0.05
ACTIVITY_SIGMA = 1.0  # lognormal spread of customer activity (a few heavy buyers)
MEAN_ACTIVE_YEARS = 2.5  # customers drift away: orders fall in [created, created + Exp(2.5 years)]
RECENT_CART_DAYS = 60
RECENT_CART_SHARE = 0.2
CART_COMPLETED_SHARE = 0.3
VIP_SHARE = 0.02

# Order status classes: (status, financial, share). PROCESSING is mostly given to the last days' orders.
ORDER_CLASSES: tuple[tuple[StatusValue, FinancialValue, float], ...] = (
    ("completed", "paid", 0.871),
    ("processing", "paid", 0.005),
    ("on-hold", "authorized", 0.01),
    ("pending", "pending", 0.02),
    ("failed", "pending", 0.012),
    ("checkout-draft", "pending", 0.008),
    ("cancelled", "voided", 0.014),
    ("cancelled", "refunded", 0.006),
    ("refunded", "refunded", 0.03),
    ("completed", "partially_refunded", 0.02),
    ("completed", "paid", 0.004),  # a completed order touched again much later (note, tag)
)
COMPLETED, PROCESSING, ON_HOLD, PENDING, FAILED, DRAFT, VOIDED, CANCEL_REFUNDED, REFUNDED, PARTIAL, TOUCHED = range(11)
_CLASS_CUM = cumulative([share for _, _, share in ORDER_CLASSES])
# Mean seconds from created_at to updated_at, per class (plus a floor), before clamping to the end.
_UPDATE_DELAY: tuple[tuple[int, float], ...] = (
    (3_600, 2 * DAY),  # completed: fulfilled within days
    (0, 1_800.0),  # processing
    (600, 2 * 3_600.0),  # on-hold
    (0, 600.0),  # pending
    (0, 300.0),  # failed
    (0, 900.0),  # checkout-draft
    (600, DAY),  # cancelled and voided
    (3_600, 2 * DAY),  # cancelled and refunded
    (2 * DAY, 10 * DAY),  # refunded
    (2 * DAY, 12 * DAY),  # partially refunded
    (30 * DAY, 200 * DAY),  # touched later
)


@dataclass(slots=True)
class KindIndex:
    """Per-key times of one kind (index 0 unused) and the keys sorted by ``(updated, key)``."""

    created: array
    updated: array
    by_updated: array

    @property
    def n(self) -> int:
        """How many generated records of this kind."""
        return len(self.created) - 1


@dataclass(slots=True)
class ShopIndex:
    """Everything the lazy record builders need beyond the seed."""

    span: int
    customers: KindIndex
    orders: KindIndex
    carts: KindIndex
    order_customer: array  # 0 for a guest order
    order_class: bytearray
    customer_order_start: array  # customer c's order keys: customer_orders[start[c]:start[c + 1]]
    customer_orders: array
    cart_completed: bytearray
    vip_min_orders: int

    def order_count(self, customer_key: int) -> int:
        """How many (generated) orders customer ``customer_key`` placed."""
        return self.customer_order_start[customer_key + 1] - self.customer_order_start[customer_key]


def spread(p: float) -> float:
    """Map a uniform p in [0, 1) to [0, 1) with a density growing over time (monotone)."""
    return math.log1p(p * math.expm1(GROWTH)) / GROWTH


def argsort(values: array, first: int = 1) -> array:
    """Indices ``first..len-1`` of ``values`` (non-negative ints) sorted by ``(value, index)``.

    Packs value and index into one float when they fit in its 53-bit mantissa: sorting a list of
    floats is about twice as fast as sorting with a key function, and needs one list, not two.
    """
    n = len(values)
    bits = max(1, n.bit_length())
    top = max(values) if n else 0
    if top.bit_length() + bits <= 52:
        scale = 1 << bits
        inv = 1.0 / scale
        mask = scale - 1
        packed = [v + i * inv for i, v in enumerate(values)]
        del packed[:first]
        packed.sort()
        return array("i", (int(f * scale) & mask for f in packed))
    return array("i", sorted(range(first, n), key=values.__getitem__))


def _chronological(times: array, customers: array, n: int) -> tuple[array, array]:
    """Orders sorted by ``(created, customer)``: 1-based ``created`` and ``customer`` columns.

    Packs the customer into the float's fraction when it fits (as :func:`argsort` does), which
    spares gathering both columns through a permutation.
    """
    bits = max(1, n.bit_length())
    created, owner = array(times.typecode, [0]), array("i", [0])
    if times and max(times).bit_length() + bits <= 52:
        scale = 1 << bits
        inv, mask = 1.0 / scale, scale - 1
        packed = [t + c * inv for t, c in zip(times, customers, strict=True)]
        packed.sort()
        created.extend(map(int, packed))
        owner.extend(int(f * scale) & mask for f in packed)
    else:
        order = sorted(range(len(times)), key=lambda i: (times[i], customers[i]))
        created.extend(map(times.__getitem__, order))
        owner.extend(map(customers.__getitem__, order))
    return created, owner


def _typecode(span: int) -> str:
    return "i" if span < 2**31 else "q"


def build_index(seed: int, customers: int, orders_per_customer: float, carts_per_customer: float,
                span: int) -> ShopIndex:
    """Draw every record's position and class, in one pass per kind.

    Args:
        seed: the shop seed.
        customers: number of customers.
        orders_per_customer: mean over all customers, guests' orders included.
        carts_per_customer: mean abandoned checkouts per customer.
        span: seconds from the shop's start to its end.
    """
    r = random.Random(mix64(seed ^ 0x1D3C)).random  # noqa: S311 - simulation data, not security
    tc = _typecode(span)
    n = customers
    total = round(orders_per_customer * n)
    guests = round(total * GUEST_ORDER_SHARE)
    wanted = total - guests
    p_order = min(1.0 - NEVER_ORDER_SHARE, wanted / n) if n else 0.0

    log, log1p = math.log, math.log1p  # local names: these loops run once per record
    growth = math.expm1(GROWTH)
    created = array(tc, [0]) * (n + 1)
    for k in range(1, n + 1):  # spread(), inlined
        created[k] = int(span * log1p((k - 1 + r()) / n * growth) / GROWTH)

    # Activity: lognormal weight times the share of the 5 years the customer stays active.
    activity = array("d", bytes(8 * (n + 1)))
    active_until = array(tc, [0]) * (n + 1)
    ordering = 0
    for k in range(1, n + 1):
        if r() >= p_order:
            r(), r(), r()  # keep the stream aligned whatever the outcome
            continue
        ordering += 1
        z = math.sqrt(-2.0 * log(1.0 - r())) * math.cos(2.0 * math.pi * r())
        start = created[k]
        until = start + int(-MEAN_ACTIVE_YEARS * 365 * DAY * log(1.0 - r()))
        if until > span:
            until = span
        active_until[k] = until
        activity[k] = math.exp(ACTIVITY_SIGMA * z) * (until - start + DAY) / span
    total_activity = math.fsum(activity)
    lam = max(0.0, (wanted - ordering) / total_activity) if total_activity else 0.0

    otimes = array(tc)
    ocust = array("i")
    last_order = array(tc, [-1]) * (n + 1)
    start_of = array("q", [0]) * (n + 2)
    counts: dict[int, int] = {}
    append_time, append_customer = otimes.append, ocust.append
    for k in range(1, n + 1):
        w = activity[k]
        m = 0
        if w > 0.0:
            m = 1 + poisson(r(), r(), lam * w)
            start, room = created[k], active_until[k] - created[k]
            last = -1
            for j in range(m):
                t = start + int(-180.0 * log(1.0 - r())) if j == 0 and r() < 0.6 else start + int(r() * room)
                if t >= span:
                    t = span - 1
                append_time(t)
                append_customer(k)
                if t > last:
                    last = t
            last_order[k] = last
        start_of[k + 1] = start_of[k] + m
        counts[m] = counts.get(m, 0) + 1
    for _ in range(guests):
        otimes.append(int(span * spread(r())))
        ocust.append(0)

    o_created, o_customer = _chronological(otimes, ocust, n)
    del otimes, ocust
    orders, o_class = _order_updates(r, o_created, span)

    c_updated = array(tc, [0]) * (n + 1)
    for k in range(1, n + 1):
        start = created[k]
        t = start + int(-300.0 * log(1.0 - r()))
        if r() < 0.25:  # a profile edit some time later
            edit = start + int(r() * (span - start))
            t = edit if edit > t else t
        last = last_order[k]
        if last >= 0:  # placing an order touches the customer
            last += int(r() * 120)
            t = last if last > t else t
        c_updated[k] = t if t < span else span

    customer_orders = array("i", [0]) * int(start_of[n + 1])
    fill = array("q", start_of)
    for key in range(1, len(o_customer)):
        c = o_customer[key]
        if c:
            customer_orders[fill[c]] = key
            fill[c] += 1

    carts, completed = _carts(r, round(carts_per_customer * n), span, tc)
    return ShopIndex(
        span=span,
        customers=KindIndex(created, c_updated, argsort(c_updated)),
        orders=orders,
        carts=carts,
        order_customer=o_customer,
        order_class=o_class,
        customer_order_start=start_of,
        customer_orders=customer_orders,
        cart_completed=completed,
        vip_min_orders=_vip_threshold(counts, n),
    )


def _order_updates(rand: Callable[[], float], o_created: array, span: int) -> tuple[KindIndex, bytearray]:
    n = len(o_created) - 1
    o_class = bytearray(n + 1)
    updated = array(o_created.typecode, o_created)
    log = math.log
    cum = _CLASS_CUM
    # (start of the class's slice of [0, 1), its width, delay floor, delay mean): the uniform that
    # picked the class, rescaled within its slice, is a fresh uniform for the delay.
    lows = (0.0, *cum[:-1])
    slices = [(lows[i], cum[i] - lows[i], *_UPDATE_DELAY[i]) for i in range(len(cum))]
    recent = bisect_left(o_created, span - 3 * DAY, 1)  # keys of the last 3 days' orders start here
    for key in range(1, n + 1):
        u = rand()
        cls = bisect_right(cum, u)
        if key >= recent and rand() < 0.6:
            cls = PROCESSING
        low, width, floor, mean = slices[cls]
        o_class[key] = cls
        v = (u - low) / width
        t = o_created[key] + floor + int(-mean * log(1.0 - v if 0.0 <= v < 1.0 else rand()))
        updated[key] = t if t < span else span
    return KindIndex(o_created, updated, argsort(updated)), o_class


def _carts(rand: Callable[[], float], m: int, span: int, tc: str) -> tuple[KindIndex, bytearray]:
    created = array(tc, [0]) * (m + 1)
    updated = array(tc, [0]) * (m + 1)
    completed = bytearray(m + 1)
    recent = RECENT_CART_DAYS * DAY if span > 2 * RECENT_CART_DAYS * DAY else 0
    main = span - recent
    cut = 1.0 - RECENT_CART_SHARE if recent else 1.0
    for k in range(1, m + 1):
        p = (k - 1 + rand()) / m
        t = int(main * spread(p / cut)) if p < cut else main + int(recent * (p - cut) / (1.0 - cut))
        created[k] = t
        if rand() < CART_COMPLETED_SHARE:
            completed[k] = 1
            delay = 600 + int(-DAY * math.log(1.0 - rand()))
        else:
            delay = int(-1_200 * math.log(1.0 - rand()))
        updated[k] = min(span, t + delay)
    return KindIndex(created, updated, argsort(updated)), completed


def _vip_threshold(counts: dict[int, int], n: int) -> int:
    """The smallest order count reached by at most :data:`VIP_SHARE` of customers."""
    above = 0
    for m in sorted(counts, reverse=True):
        if above + counts[m] > VIP_SHARE * n:
            return m + 1
        above += counts[m]
    return 1
