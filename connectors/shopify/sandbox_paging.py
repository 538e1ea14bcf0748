"""Relay pagination as Shopify does it: ``first/after``, ``last/before``, ``reverse``, opaque cursors.

Root connections page through :meth:`ShopState.scan`, so a million-customer shop is never listed
whole: a page scans from the cursor's position, filters, and stops at ``n + 1`` matches (the extra
one says whether there is a next page). Nested connections (an order's line items) page over a
short in-memory list. Cursors are base64 JSON like Shopify's own (``{"last_id":…,"last_value":…}``)
and carry the exact sort value, so paging by ``updated_at`` resumes at the right record.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from connector.sandbox.shop import Kind, OrderBy, Record, ShopState
from connectors.shopify.sandbox_search import Bound, SearchFilter

__all__ = ["MAX_PAGE", "CursorError", "Page", "Window", "connection", "count_matching", "page_list", "page_shop"]

MAX_PAGE = 250
_MAX_KEY = sys.maxsize
_SORT_FIELD: dict[str, str] = {"key": "id", "updated_at": "updated_at", "created_at": "created_at"}
T = TypeVar("T")
Position = int | tuple[datetime, int]


class CursorError(ValueError):
    """A cursor that this connection did not hand out."""


@dataclass(frozen=True)
class Window:
    """The paging arguments of one connection field."""

    first: int | None = None
    last: int | None = None
    after: str | None = None
    before: str | None = None
    reverse: bool = False

    @classmethod
    def from_args(cls, args: dict[str, Any], *, unbounded: bool = False) -> Window:
        """From resolver arguments; ``unbounded`` (bulk queries) ignores the page size."""
        if unbounded:
            return cls(reverse=bool(args.get("reverse")))
        return cls(args.get("first"), args.get("last"), args.get("after"), args.get("before"),
                   bool(args.get("reverse")))


@dataclass(frozen=True)
class Page:
    """Records with their cursors, in display order, and whether more lie on either side."""

    rows: list[tuple[str, Any]]
    has_next: bool
    has_previous: bool


def encode_cursor(key: int, value: str | None = None) -> str:
    raw = json.dumps({"last_id": key, "last_value": value}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, str | None]:
    try:
        data = json.loads(base64.b64decode(cursor.encode(), validate=True))
        key, value = data["last_id"], data["last_value"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise CursorError(f"Invalid cursor for current pagination sort: {cursor!r}") from exc
    if not isinstance(key, int) or not (value is None or isinstance(value, str)):
        raise CursorError(f"Invalid cursor for current pagination sort: {cursor!r}")
    return key, value


def connection(page: Page) -> dict[str, Any]:
    """A connection object as the resolvers return it (``edges``, ``nodes``, ``pageInfo``)."""
    return {
        "edges": [{"cursor": cursor, "node": node} for cursor, node in page.rows],
        "nodes": [node for _, node in page.rows],
        "pageInfo": {
            "hasNextPage": page.has_next,
            "hasPreviousPage": page.has_previous,
            "startCursor": page.rows[0][0] if page.rows else None,
            "endCursor": page.rows[-1][0] if page.rows else None,
        },
    }


def _position(record: Record, order_by: OrderBy) -> Position:
    return record.key if order_by == "key" else (getattr(record, order_by), record.key)


def cursor_of(record: Record, order_by: OrderBy) -> str:
    """The cursor just past ``record`` in ``order_by`` order."""
    return encode_cursor(record.key, None if order_by == "key" else getattr(record, order_by).isoformat())


def _from_cursor(cursor: str, order_by: OrderBy) -> Position:
    key, value = decode_cursor(cursor)
    if order_by == "key":
        return key
    if value is None:
        raise CursorError(f"Invalid cursor for current pagination sort: {cursor!r}")
    try:
        return (datetime.fromisoformat(value), key)
    except ValueError as exc:
        raise CursorError(f"Invalid cursor for current pagination sort: {cursor!r}") from exc


def _bound_start(bound: Bound | None, order_by: OrderBy, reverse: bool) -> Position | None:
    """Where a scan may start given the filter's interval on the sort field (a pure speed-up)."""
    edge, inclusive = (bound.hi, bound.hi_inclusive) if bound and reverse else (
        (bound.lo, bound.lo_inclusive) if bound else (None, True))
    if edge is None:
        return None
    if order_by == "key":
        return (edge + 1 if inclusive else edge) if reverse else (edge - 1 if inclusive else edge)
    return (edge, _MAX_KEY if inclusive == reverse else 0)


def _collect(shop: ShopState, kind: Kind, order_by: OrderBy, start: Position | None, reverse: bool, n: int,
             filt: SearchFilter, keep: Callable[[Any], bool] | None) -> list[Record]:
    """Up to ``n`` matching records after ``start`` (exclusive) in scan order."""
    bound = filt.bounds.get(_SORT_FIELD[order_by])
    begin = _bound_start(bound, order_by, reverse)
    if begin is not None and start is not None:
        start = min(start, begin) if reverse else max(start, begin)  # type: ignore[type-var]
    else:
        start = begin if begin is not None else start
    after, before = filt.updated_window()
    found: list[Record] = []
    while len(found) < n:
        want = min(max(n - len(found), 50), 1000)
        batch = shop.scan(kind, order_by=order_by, after=start, updated_after=after, updated_before=before,
                          reverse=reverse, limit=want)
        for record in batch:
            value = record.key if order_by == "key" else getattr(record, order_by)
            if bound is not None and _beyond(bound, value, reverse):
                return found
            if filt.matches(record) and (keep is None or keep(record)):
                found.append(record)
                if len(found) == n:
                    return found
        if len(batch) < want:
            break
        start = _position(batch[-1], order_by)
    return found


def _beyond(bound: Bound, value: Any, reverse: bool) -> bool:
    if reverse:
        return bound.lo is not None and (value < bound.lo or (value == bound.lo and not bound.lo_inclusive))
    return bound.hi is not None and (value > bound.hi or (value == bound.hi and not bound.hi_inclusive))


def page_shop(shop: ShopState, kind: Kind, *, order_by: OrderBy, window: Window, filt: SearchFilter,
              keep: Callable[[Any], bool] | None = None, size: int | None = None) -> Page:
    """One page of a root connection.

    Args:
        keep: an extra predicate (e.g. the 60-day window without ``read_all_orders``).
        size: the page size when the window has none (bulk queries page internally).

    Raises:
        CursorError: ``after``/``before`` is not a cursor of this sort order.
    """
    backwards = window.last is not None
    limit = window.last if backwards else (window.first if window.first is not None else size or MAX_PAGE)
    assert limit is not None  # noqa: S101 - one of the branches above always gives a size
    scan_reverse = window.reverse != backwards
    cursor = window.before if backwards else window.after
    start = _from_cursor(cursor, order_by) if cursor else None
    rows = _collect(shop, kind, order_by, start, scan_reverse, limit + 1, filt, keep)
    more = len(rows) > limit
    rows = rows[:limit]
    behind = False
    if cursor is not None:
        behind = bool(_collect(shop, kind, order_by, _position(rows[0], order_by), not scan_reverse, 1, filt, keep)
                      ) if rows else True
    if backwards:
        rows.reverse()
    page_rows = [(cursor_of(r, order_by), r) for r in rows]
    return Page(page_rows, has_next=behind if backwards else more, has_previous=more if backwards else behind)


def page_list(items: Sequence[T], window: Window, key_of: Callable[[T], int]) -> Page:
    """One page of a short list (a nested connection); cursors name the item's key."""
    ordered = list(reversed(items)) if window.reverse else list(items)
    keys = [key_of(item) for item in ordered]
    start, end = 0, len(ordered)
    if window.after is not None:
        key, _ = decode_cursor(window.after)
        start = keys.index(key) + 1 if key in keys else start
    if window.before is not None:
        key, _ = decode_cursor(window.before)
        end = keys.index(key) if key in keys else end
    if window.first is not None:
        lo, hi = start, min(end, start + window.first)
    elif window.last is not None:
        lo, hi = max(start, end - window.last), end
    else:
        lo, hi = start, end
    rows = [(encode_cursor(keys[i]), ordered[i]) for i in range(lo, hi)]
    return Page(rows, has_next=hi < len(ordered), has_previous=lo > 0)


def count_matching(shop: ShopState, kind: Kind, filt: SearchFilter, keep: Callable[[Any], bool] | None,
                   cap: int | None) -> int:
    """How many records match (at most ``cap + 1``, which is enough to tell "more than cap")."""
    if keep is None and not filt.predicates and set(filt.bounds) <= {"updated_at"}:
        after, before = filt.updated_window()
        return shop.count(kind, updated_after=after, updated_before=before)
    return len(_collect(shop, kind, "key", None, False, cap + 1 if cap is not None else sys.maxsize, filt, keep))
