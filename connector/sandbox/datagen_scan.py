"""Ordered access to one kind of record: the generated base merged with an overlay of changes.

The base is never materialised: it is the index arrays plus a builder. Positions are compared as
``(time in microseconds since the shop's start, key)`` pairs (``(0, key)`` in key order), so
ties fall back to the key and an exclusive ``after`` is a plain tuple comparison. A changed base
record is skipped where the base index has it and served from the overlay's own sorted lists
instead, which is what moves it in ``updated_at`` order.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from connector.sandbox.datagen_index import KindIndex
from connector.sandbox.shop import OrderBy, Record

__all__ = ["KindView", "Position"]

Position = tuple[int, int]
_US = 1_000_000
_MICRO = timedelta(microseconds=1)
_TOP = 1 << 62


class KindView:
    """Base index + overlay for one kind; every answer reflects current versions."""

    def __init__(self, index: KindIndex, build: Callable[[int], Record], start: datetime) -> None:
        self.index = index
        self.build = build
        self.start = start
        self.records: dict[int, Record] = {}  # the overlay: current versions of changed or added records
        self.added = 0
        self._updated: dict[int, int] = {}  # overlay key -> current updated_at (µs)
        self._created: dict[int, int] = {}
        self._lists: dict[OrderBy, list[Position]] = {"key": [], "created_at": [], "updated_at": []}
        self._shadow: list[Position] = []  # (base updated_at µs, key) of changed base records
        upd, crt = index.updated, index.created
        n = index.n
        self._base: dict[OrderBy, tuple[Sequence[int], Callable[[int], Position]]] = {
            "key": (range(1, n + 1), lambda k: (0, k)),
            "created_at": (range(1, n + 1), lambda k: (crt[k] * _US, k)),
            "updated_at": (index.by_updated, lambda k: (upd[k] * _US, k)),
        }

    @property
    def total(self) -> int:
        """How many records exist (generated plus added)."""
        return self.index.n + self.added

    def micros(self, when: datetime) -> int:
        """``when`` as microseconds since the shop's start (raises on a naive datetime)."""
        if when.tzinfo is None:
            raise ValueError(f"naive datetime {when.isoformat()}: use a timezone-aware UTC datetime")
        return (when - self.start) // _MICRO

    def get(self, key: int) -> Record | None:
        """The current version of record ``key``, or None."""
        found = self.records.get(key)
        if found is not None:
            return found
        if 1 <= key <= self.index.n:
            return self.build(key)
        return None

    def put(self, record: Record) -> None:
        """Make ``record`` the current version of its key (a new key must be the next one)."""
        key = record.key
        updated, created = self.micros(record.updated_at), self.micros(record.created_at)
        lists = self._lists
        if key in self.records:
            _remove(lists["created_at"], (self._created[key], key))
            _remove(lists["updated_at"], (self._updated[key], key))
        else:
            if key > self.index.n:
                if key != self.total + 1:
                    raise ValueError(f"new key {key} is not the next one ({self.total + 1})")
                self.added += 1
            else:
                insort(self._shadow, (self.index.updated[key] * _US, key))
            insort(lists["key"], (0, key))
        insort(lists["created_at"], (created, key))
        insort(lists["updated_at"], (updated, key))
        self.records[key] = record
        self._updated[key] = updated
        self._created[key] = created

    def count(self, after_us: int | None, before_us: int | None) -> int:
        """How many records have ``after_us < updated_at < before_us`` (None: unbounded)."""
        if after_us is None and before_us is None:
            return self.total
        seq, sk = self._base["updated_at"]
        lo, hi = _window(seq, sk, after_us, before_us)
        slo, shi = _window(self._shadow, None, after_us, before_us)
        olo, ohi = _window(self._lists["updated_at"], None, after_us, before_us)
        return (hi - lo) - (shi - slo) + (ohi - olo)

    def scan(self, order_by: OrderBy, after: Position | None, after_us: int | None, before_us: int | None,
             reverse: bool, limit: int) -> list[Record]:
        """One page in ``order_by`` order, strictly after (or before, if ``reverse``) ``after``."""
        if order_by not in self._base:
            raise ValueError(f"unknown order_by {order_by!r}")
        if limit <= 0:
            return []
        seq, sk = self._base[order_by]
        olist = self._lists[order_by]
        bounded = after_us is not None or before_us is not None
        if order_by == "updated_at" and bounded:
            lo, hi = _window(seq, sk, after_us, before_us)
            olo, ohi = _window(olist, None, after_us, before_us)
            bounded = False  # the windows already apply the bounds
        else:
            lo, hi, olo, ohi = 0, len(seq), 0, len(olist)
        if after is not None:
            if reverse:
                hi = min(hi, bisect_left(seq, after, key=sk))
                ohi = min(ohi, bisect_left(olist, after))
            else:
                lo = max(lo, bisect_right(seq, after, key=sk))
                olo = max(olo, bisect_right(olist, after))
        low = -_TOP if after_us is None else after_us
        high = _TOP if before_us is None else before_us
        records, base_updated, over_updated = self.records, self.index.updated, self._updated
        out: list[Record] = []
        step = -1 if reverse else 1
        i, j = (hi - 1, ohi - 1) if reverse else (lo, olo)
        while len(out) < limit:
            while lo <= i < hi:  # the next base record that is unchanged and within the bounds
                k = seq[i]
                if k not in records and (not bounded or low < base_updated[k] * _US < high):
                    break
                i += step
            while olo <= j < ohi and bounded and not low < over_updated[olist[j][1]] < high:
                j += step
            has_base, has_over = lo <= i < hi, olo <= j < ohi
            if not has_base and not has_over:
                break
            take_base = has_base and (not has_over or (sk(seq[i]) < olist[j]) != reverse)
            if take_base:
                out.append(self.build(seq[i]))
                i += step
            else:
                out.append(records[olist[j][1]])
                j += step
        return out


def _window(seq: Sequence[int] | list[Position], sk: Callable[[int], Position] | None, after_us: int | None,
            before_us: int | None) -> tuple[int, int]:
    """The slice of an ``updated_at``-ordered sequence with ``after_us < updated_at < before_us``."""
    lo = 0 if after_us is None else bisect_right(seq, (after_us, _TOP), key=sk)  # type: ignore[arg-type]
    hi = len(seq) if before_us is None else bisect_left(seq, (before_us, -_TOP), key=sk)  # type: ignore[arg-type]
    return lo, max(lo, hi)


def _remove(items: list[Position], item: Position) -> None:
    i = bisect_left(items, item)
    del items[i]
