"""Seeded randomness for the data generator: stateless per record, cheap in pure Python.

Two tools, both deterministic for a given seed on every platform and Python version:

- :func:`mix64` / :func:`unit` (splitmix64): a value from ``(seed, kind, key, field)`` alone, with no
  state, so any record can be rebuilt in any order.
- :class:`Draws`: a short stream for one record, seeded by one :func:`mix64` and stepped with a
  64-bit LCG (only the high 53 bits are used). A record takes 20-60 draws; stepping an LCG is
  about five times cheaper than re-mixing for each field, which is what makes scanning millions
  of records bearable in pure Python.

Only ``random.Random.random`` (never its distribution helpers, whose algorithms may change
between versions) is used elsewhere, for the one-pass construction of the indexes.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from typing import TypeVar

__all__ = ["Draws", "cumulative", "kind_base", "mix64", "poisson", "unit", "unit_of"]

T = TypeVar("T")

_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_INV53 = 1.0 / (1 << 53)
_LCG_A = 6364136223846793005  # Knuth's MMIX constants
_LCG_C = 1442695040888963407


def mix64(x: int) -> int:
    """The splitmix64 finaliser: a well-mixed 64-bit word from any integer."""
    z = (x + _GOLDEN) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def kind_base(seed: int, kind: int) -> int:
    """The word every record of one kind is derived from (compute once, then :class:`Draws` per key)."""
    return mix64(mix64(seed & _M64) ^ (kind * _GOLDEN & _M64))


def unit(seed: int, kind: int, key: int, field: int) -> float:
    """A uniform float in [0, 1) from ``(seed, kind, key, field)`` alone."""
    word = mix64(kind_base(seed, kind) ^ (key & _M64))
    return (mix64(word ^ (field * _GOLDEN & _M64)) >> 11) * _INV53


def unit_of(base: int, key: int) -> float:
    """A uniform float in [0, 1) from a :func:`kind_base` and a key: one draw per key, the fast path."""
    return (mix64(base ^ (key & _M64)) >> 11) * _INV53


def cumulative(weights: Sequence[float]) -> tuple[float, ...]:
    """Normalised cumulative weights, for :meth:`Draws.weighted`."""
    total = float(sum(weights))
    acc = 0.0
    out = []
    for w in weights:
        acc += w / total
        out.append(acc)
    out[-1] = 1.0
    return tuple(out)


def poisson(u: float, v: float, lam: float) -> int:
    """A Poisson(lam) sample: inversion for small ``lam`` (uses ``u``), else a rounded normal (``u``, ``v``)."""
    if lam <= 0:
        return 0
    if lam < 30:
        p = math.exp(-lam)
        cdf = p
        k = 0
        while u > cdf and k < 200:
            k += 1
            p *= lam / k
            cdf += p
        return k
    z = math.sqrt(-2.0 * math.log(1.0 - u)) * math.cos(2.0 * math.pi * v)
    return max(0, round(lam + z * math.sqrt(lam)))


class Draws:
    """A deterministic stream of uniforms for one record: ``Draws(kind_base(seed, kind), key)``."""

    __slots__ = ("_s",)

    def __init__(self, base: int, key: int) -> None:
        self._s = mix64(base ^ (key & _M64))

    def u(self) -> float:
        """The next uniform float in [0, 1)."""
        s = (self._s * _LCG_A + _LCG_C) & _M64
        self._s = s
        return (s >> 11) * _INV53

    def bits(self) -> int:
        """The next 53 random bits as an int (to cut into several small choices)."""
        s = (self._s * _LCG_A + _LCG_C) & _M64
        self._s = s
        return s >> 11

    # The helpers below inline the LCG step: a method call is a large part of a draw's cost.
    def below(self, n: int) -> int:
        """A uniform int in [0, n)."""
        s = self._s = (self._s * _LCG_A + _LCG_C) & _M64
        return int((s >> 11) * _INV53 * n)

    def between(self, lo: int, hi: int) -> int:
        """A uniform int in [lo, hi] (both included)."""
        s = self._s = (self._s * _LCG_A + _LCG_C) & _M64
        return lo + int((s >> 11) * _INV53 * (hi - lo + 1))

    def chance(self, p: float) -> bool:
        """True with probability ``p``."""
        s = self._s = (self._s * _LCG_A + _LCG_C) & _M64
        return (s >> 11) * _INV53 < p

    def pick(self, seq: Sequence[T]) -> T:
        """A uniform element of ``seq``."""
        s = self._s = (self._s * _LCG_A + _LCG_C) & _M64
        return seq[int((s >> 11) * _INV53 * len(seq))]

    def weighted(self, seq: Sequence[T], cum: Sequence[float]) -> T:
        """An element of ``seq`` drawn with the :func:`cumulative` weights ``cum``."""
        s = self._s = (self._s * _LCG_A + _LCG_C) & _M64
        i = bisect_right(cum, (s >> 11) * _INV53)
        return seq[i] if i < len(seq) else seq[-1]

    def expo(self, mean: float) -> float:
        """An exponential sample with the given mean."""
        return -mean * math.log(1.0 - self.u())

    def poisson(self, lam: float) -> int:
        """A Poisson(lam) sample."""
        return poisson(self.u(), self.u(), lam)

    def hex(self, digits: int) -> str:
        """``digits`` lowercase hex characters (e.g. a cart token)."""
        parts = []
        for _ in range((digits + 15) // 16):
            self.u()
            parts.append(f"{self._s:016x}")
        return "".join(parts)[:digits]
