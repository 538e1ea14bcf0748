"""Reading orders changed in a time range: keyset pages on ``date_modified``, several slices at once.

WordPress lists are offset-paginated (``page``/``offset``), and offsets shift under a running
shop: an order modified while we page moves to the end of a ``modified``-sorted list, every
order after it moves up one place, and the one that crosses the page boundary is never read.
Nothing would ever ask for it again. So this module never pages by offset through a changing
list. Instead it reads **keyset windows** on the modification time:

* every request is ``orderby=modified&order=asc&modified_after=T-1s&modified_before=END`` with
  ``dates_are_gmt=true``, ``page=1``, ``per_page=100`` (WordPress's date bounds are exclusive and
  whole seconds, so ``after T-1s`` means "modified at T or later");
* after a full page whose last record was modified at ``L``, the next request starts at ``L``
  again; the records of second ``L`` already read are skipped by id. A short page ends the slice;
* ``END`` is the run's start (less a clock-skew margin), so an order modified during the run
  leaves the range instead of shifting it: it is read by the next run;
* more than a page of records in one second (a bulk edit) cannot be passed by time: that second
  alone is then read by ``orderby=id`` offset pages, and the scan resumes at the next second.

**Concurrency**: the range is cut into time slices, one per worker (``concurrency``), each read
as above. A worker that runs out of slices takes the later half of the slice with the most work
left (estimated from the density of its last page; only when that half holds at least a page),
so a range whose orders bunch up near the end (a growing shop) still keeps every worker busy.

**Older WooCommerce** versions may refuse ``orderby=modified`` (400 ``rest_invalid_param``). Then
no sort is needed at all: a window whose ``X-WP-Total`` fits one page is read whole, and a bigger
one is cut into as many equal spans as it has pages' worth, the later ones becoming slices of
their own, until each fits (more requests, the same guarantees).

**Progress**: each yielded batch carries the *low-water mark* ``W``: every record modified before
``W`` has been yielded, in this batch or an earlier one. It only counts batches already handed
to the caller, so a cursor saved from it after the caller committed a batch never skips a record
of a batch still in flight.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.errors import RemoteAPIError
from connectors.woocommerce.client import WooCommerceClient, record_id

__all__ = ["Batch", "format_gmt", "modified_windows", "parse_gmt"]

SECOND = timedelta(seconds=1)
EPOCH = datetime(1970, 1, 2, tzinfo=UTC)  # WordPress rejects some dates before 1970-01-01
_log = logging.getLogger("connectors.woocommerce")


def format_gmt(moment: datetime) -> str:
    """A WordPress date parameter: naive UTC, whole seconds (rounded down)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def parse_gmt(value: object) -> datetime | None:
    """A ``*_gmt`` field (naive UTC, as WordPress sends it) as an aware datetime; None if unusable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _floor(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class Batch:
    """Raw records from one request, and the low-water mark after them (see the module docstring)."""

    items: list[dict[str, Any]]
    low_water: datetime


@dataclass(eq=False)
class _Slice:
    start: datetime  # the next request reads records modified at or after this second
    end: datetime  # exclusive
    seen: set[int] = field(default_factory=set)  # ids already read with modified == start
    busy: bool = False
    more: bool = True  # the last page was full: there is more to read
    rate: float | None = None  # records per second on the last full page (None: not known yet)
    done: bool = False
    committed: datetime | None = None  # progress counted in the low-water mark (handed to the caller)
    committed_done: bool = False

    def span(self) -> timedelta:
        return self.end - self.start

    def backlog(self) -> float:
        """Records estimated to be left, from the density of the last full page (unknown: none)."""
        return 0.0 if self.rate is None else self.rate * self.span().total_seconds()


@dataclass(frozen=True, slots=True)
class _Result:
    slice: _Slice
    items: list[dict[str, Any]]
    progress: datetime  # the slice's start after this page
    done: bool


class _Scan:
    def __init__(
        self,
        client: WooCommerceClient,
        resource: str,
        params: Mapping[str, str | int],
        per_page: int,
        workers: int,
    ) -> None:
        self.client = client
        self.resource = resource
        self.params = dict(params)
        self.per_page = per_page
        self.workers = workers
        self.slices: list[_Slice] = []
        self.pending: list[_Slice] = []
        self.queue: asyncio.Queue[_Result | BaseException | None] = asyncio.Queue(maxsize=2 * workers)
        self.unsorted = False  # the site refused orderby=modified (older WooCommerce): halve windows instead

    # ------------------------------------------------------------------ reading one slice page

    async def read(self, part: _Slice) -> _Result:
        """One keyset page of ``part`` (or, for an overfull second, all of that second)."""
        if self.unsorted:
            return await self._read_halving(part)
        try:
            page = await self._request(part.start, part.end, orderby="modified", page=1)
        except RemoteAPIError as exc:
            if exc.status != 400 or "orderby" not in f"{exc} {exc.excerpt}":
                raise
            if not self.unsorted:
                self.unsorted = True
                _log.warning("woocommerce %s: this WooCommerce version cannot sort %s by modification date "
                             "(orderby=modified was refused); reading windows small enough for one page instead",
                             self.client.account, self.resource)
            return await self._read_halving(part)
        items = page.items()
        keyed = [(item, parse_gmt(item.get("date_modified_gmt"))) for item in items if isinstance(item, dict)]
        # An order modified at or after `end` belongs to a later slice (after a split) or a later run.
        keyed = [(item, at) for item, at in keyed if at is None or at < part.end]
        full = len(items) >= self.per_page
        stamps = [at for _, at in keyed if at is not None]
        last = max(stamps, default=None)
        if full and last is not None and last <= part.start:
            return await self._read_second(part, keyed)
        fresh = [item for item, at in keyed if not (at == part.start and _key(item) in part.seen)]
        if full and last is None:
            _log.warning("woocommerce %s: a full page of %s without date_modified_gmt; cannot page past it",
                         self.client.account, self.resource)
        if not full or last is None or last >= part.end:
            return _Result(part, fresh, part.end, True)
        part.seen = {_key(item) for item, at in keyed if at == last} | (part.seen if last == part.start else set())
        earliest = min(stamps)
        part.rate = len(keyed) / max(1.0, (last - earliest).total_seconds() + 1.0)
        return _Result(part, fresh, last, False)

    async def _read_halving(self, part: _Slice) -> _Result:
        """Without a sort by modification date: a window that fits one page is read whole; a bigger one
        is cut (the later pieces become slices of their own) until it fits, or is one second long."""
        while True:
            page = await self._request(part.start, part.end, orderby="id", page=1)
            items = [item for item in page.items() if isinstance(item, dict)]
            total = page.total if page.total is not None else len(items)
            if total <= len(items) or part.span() <= SECOND:
                break
            if part.start <= EPOCH:
                # No lower bound yet (a backfill): the oldest order's creation date is one, since an
                # order is modified at or after its creation; anything odd before it is a slice of its own.
                oldest = await self._oldest_created(part)
                if oldest is not None and EPOCH < oldest < part.end:
                    later = _Slice(start=oldest, end=part.end, committed=oldest)
                    self.slices.append(later)
                    self.pending.insert(0, later)
                    part.end = oldest
                    continue
            # Cut into as many equal spans as pages' worth (with room), guessing an even spread;
            # the first is read again at once, the others become slices of their own.
            pieces = min(64, math.ceil(total / (0.7 * self.per_page)))
            step = part.span() / pieces
            bounds = sorted({part.start, *(_floor(part.start + step * i) for i in range(1, pieces)), part.end})
            if len(bounds) < 3:
                break
            for lower, upper in zip(bounds[1:-1], bounds[2:], strict=True):
                later = _Slice(start=lower, end=upper, committed=lower)
                self.slices.append(later)
                self.pending.append(later)
            part.end = bounds[1]
        if total > len(items) >= self.per_page:  # more than a page in one second: the rest by id
            found = await self._by_id(part.start, part.end, {_key(item): item for item in items}, page=2)
            items = list(found.values())
        return _Result(part, items, part.end, True)

    async def _by_id(self, start: datetime, end: datetime, found: dict[int, dict[str, Any]], *,
                     page: int = 1) -> dict[int, dict[str, Any]]:
        """Every record of ``[start, end)`` by id, page after page from ``page`` to a short one, added to
        ``found`` (a record already there keeps its first version)."""
        while True:
            listing = await self._request(start, end, orderby="id", page=page)
            items = [item for item in listing.items() if isinstance(item, dict)]
            for item in items:
                found.setdefault(_key(item), item)
            if len(items) < self.per_page:
                return found
            page += 1

    async def _oldest_created(self, part: _Slice) -> datetime | None:
        params = {**self.params, "orderby": "date", "order": "asc", "per_page": 1, "page": 1,
                  "dates_are_gmt": "true", "modified_before": format_gmt(part.end)}
        page = await self.client.list(self.resource, params)
        items = [item for item in page.items() if isinstance(item, dict)]
        created = parse_gmt(items[0].get("date_created_gmt")) if items else None
        return _floor(created) if created else None

    async def _read_second(self, part: _Slice, keyed: list[tuple[dict[str, Any], datetime | None]]) -> _Result:
        """More than a page modified in one second: read that second by id, then move past it."""
        second = part.start
        _log.info("woocommerce %s: more than %d %s modified at %s; reading that second by id",
                  self.client.account, self.per_page, self.resource, format_gmt(second))
        found = await self._by_id(second, second + SECOND, {_key(item): item for item, _ in keyed})
        fresh = [item for key, item in found.items() if key not in part.seen]
        nxt = second + SECOND
        part.seen = set()
        return _Result(part, fresh, min(nxt, part.end), nxt >= part.end)

    async def _request(self, start: datetime, end: datetime, *, orderby: str, page: int) -> Any:
        params: dict[str, str | int] = {
            **self.params,
            "orderby": orderby,
            "order": "asc",
            "dates_are_gmt": "true",
            "per_page": self.per_page,
            "page": page,
            "modified_before": format_gmt(end),
        }
        if start > EPOCH:
            params["modified_after"] = format_gmt(start - SECOND)
        return await self.client.list(self.resource, params)

    # ------------------------------------------------------------------ scheduling

    def take(self) -> _Slice | None:
        """The next slice for an idle worker: a pending one, else the later half of the busiest one."""
        if self.pending:
            part = self.pending.pop(0)
            part.busy = True
            return part
        # Splitting costs at least one request more; worth it only when the other half holds pages of work.
        victims = [s for s in self.slices if s.busy and not s.done and s.more and s.span() >= 2 * SECOND
                   and s.backlog() >= 2 * self.per_page]
        if not victims:
            return None
        victim = max(victims, key=_Slice.backlog)
        middle = _floor(victim.start + victim.span() / 2)
        if middle <= victim.start:
            return None
        part = _Slice(start=middle, end=victim.end, busy=True, committed=middle)
        victim.end = middle
        self.slices.append(part)
        return part

    async def worker(self) -> None:
        try:
            while (part := self.take()) is not None:
                while not part.done:
                    result = await self.read(part)
                    part.start, part.done = result.progress, result.done or result.progress >= part.end
                    part.more = not part.done
                    await self.queue.put(result)
                part.busy = False
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            await self.queue.put(exc)
            return
        await self.queue.put(None)

    def low_water(self, end: datetime) -> datetime:
        open_parts = [s.committed for s in self.slices if not s.committed_done and s.committed is not None]
        return min(open_parts, default=end)


async def modified_windows(
    client: WooCommerceClient,
    resource: str,
    *,
    start: datetime | None,
    end: datetime,
    params: Mapping[str, str | int] | None = None,
    per_page: int = 100,
    concurrency: int = 1,
) -> AsyncIterator[Batch]:
    """Every record of ``resource`` modified in ``[start, end)`` (``start`` None: since the beginning).

    Args:
        client: the shop's client.
        resource: ``orders``.
        start, end: the range, whole seconds; ``end`` should be the run's start less a skew margin.
        params: further filters, e.g. ``{"status": "pending,failed"}``.
        per_page: records per request (WordPress allows at most 100).
        concurrency: slices read at once.

    Yields:
        Batches in arrival order; a record may appear twice (at a slice boundary), never not at all.
    """
    end = _floor(end)
    begin = _floor(start) if start is not None else EPOCH
    scan = _Scan(client, resource, params or {}, per_page, max(1, concurrency))
    if begin >= end:
        return
    # One request over the whole range tells how much there is; a small increment ends here.
    first = _Slice(start=begin, end=end, busy=True, committed=begin)
    scan.slices.append(first)
    result = await scan.read(first)
    first.start, first.done = result.progress, result.done or result.progress >= end
    first.committed, first.committed_done = first.start, first.done
    yield Batch(result.items, scan.low_water(end))
    first.busy = False
    if first.done and not scan.pending:
        return
    if not first.done:
        # The rest, [first.start, end), in equal time slices; stealing evens them out as they go.
        parts = max(1, scan.workers)
        step = (end - first.start) / parts
        bounds = [first.start] + [_floor(first.start + step * i) for i in range(1, parts)] + [end]
        bounds = sorted(set(bounds))
        first.end = bounds[1]
        scan.pending.append(first)
        for lower, upper in zip(bounds[1:-1], bounds[2:], strict=True):
            part = _Slice(start=lower, end=upper, committed=lower)
            scan.slices.append(part)
            scan.pending.append(part)
    tasks = [asyncio.create_task(scan.worker()) for _ in range(scan.workers)]
    finished = 0
    try:
        while finished < len(tasks):
            item = await scan.queue.get()
            if item is None:
                finished += 1
                continue
            if isinstance(item, BaseException):
                raise item
            item.slice.committed = item.progress
            item.slice.committed_done = item.done or item.progress >= item.slice.end
            yield Batch(item.items, scan.low_water(end))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _key(item: Mapping[str, Any]) -> int:
    """A record's id for de-duplication (-1 for a record without one: it is kept, and quarantined later)."""
    key = record_id(item)
    return -1 if key is None else key
