"""Reading customers, which the API cannot filter by modification time.

* :func:`scan_by_id`: every customer, ``orderby=id&order=asc``, in overlapping offset windows
  (``offset`` steps of ``per_page - overlap``) read ``concurrency`` at a time and checked in order.
  Ids only grow (a new account gets a higher id), so a window is contiguous with the one before
  when its first id is one the previous window already had. A deleted account shifts later
  offsets back; up to ``overlap - 1`` deletions are absorbed by the overlap, and a bigger shift
  shows as a gap, which is re-read from further back. Accounts created during the scan arrive at
  the end and are read too: the scan goes on until a short window.
* :func:`newer_than`: accounts created since the last scan, newest first (``order=desc``), until
  an id already known.
* :func:`by_ids`: specific accounts (``include=``), e.g. those whose orders changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from connectors.woocommerce.client import ListPage, WooCommerceClient, join_ids, record_id, record_ids

__all__ = ["by_ids", "newer_than", "scan_by_id"]

_OVERLAP = 5


def _unseen(items: list[Any], seen: set[int]) -> list[dict[str, Any]]:
    """The records not yet in ``seen`` (each once), adding them to it."""
    fresh = []
    for item in items:
        if isinstance(item, dict) and item.get("id") not in seen:
            seen.add(item.get("id"))  # type: ignore[arg-type]
            fresh.append(item)
    return fresh


async def scan_by_id(
    client: WooCommerceClient,
    resource: str,
    *,
    params: Mapping[str, str | int] | None = None,
    per_page: int = 100,
    concurrency: int = 1,
) -> AsyncIterator[list[dict[str, Any]]]:
    """Every record of ``resource`` in id order, a window at a time, each record once.

    Raises:
        ValueError: ``per_page`` leaves no room for the overlap.
    """
    if per_page <= _OVERLAP:
        raise ValueError(f"per_page must exceed the overlap of {_OVERLAP}")
    base = {**(params or {}), "orderby": "id", "order": "asc", "per_page": per_page}
    step = per_page - _OVERLAP

    async def window(offset: int) -> ListPage:
        return await client.list(resource, {**base, "offset": offset})

    items = (await window(0)).items()
    seen: set[int] = set()
    yield _unseen(items, seen)
    last_id = max(record_ids(items), default=-1)
    if len(items) < per_page:
        return
    offset = step
    ahead: dict[int, asyncio.Task[ListPage]] = {}
    try:
        while True:
            # Keep `concurrency` windows in flight beyond the one being checked.
            for k in range(concurrency):
                target = offset + k * step
                if target not in ahead:
                    ahead[target] = asyncio.create_task(window(target))
            items = (await ahead.pop(offset)).items()
            ids = record_ids(items)
            back = offset
            while ids and ids[0] > last_id and back > 0:
                # A gap: more accounts vanished before this window than the overlap absorbs.
                back = max(0, back - step)
                items = (await window(back)).items() + items
                ids = record_ids(items)
            fresh = _unseen(items, seen)
            last_id = max(ids, default=last_id)
            yield fresh
            if len(items) < per_page and back == offset:
                return
            if not ids:
                return
            offset += step
    finally:
        for task in ahead.values():
            task.cancel()
        await asyncio.gather(*ahead.values(), return_exceptions=True)


async def newer_than(
    client: WooCommerceClient,
    resource: str,
    known_max_id: int,
    *,
    params: Mapping[str, str | int] | None = None,
    per_page: int = 100,
) -> AsyncIterator[list[dict[str, Any]]]:
    """Records with an id above ``known_max_id``, newest first, a page at a time."""
    page = 1
    while True:
        listing = await client.list(resource, {**(params or {}), "orderby": "id", "order": "desc",
                                               "per_page": per_page, "page": page})
        items = listing.items()
        newer = [item for item in items if (record_id(item) or 0) > known_max_id]
        if newer:
            yield newer
        if len(newer) < len(items) or len(items) < per_page:
            return
        page += 1


async def by_ids(
    client: WooCommerceClient,
    resource: str,
    ids: Iterable[int],
    *,
    params: Mapping[str, str | int] | None = None,
    per_page: int = 100,
) -> list[dict[str, Any]]:
    """The records with these ids (those that still exist), ``per_page`` ids per request."""
    wanted = sorted(set(ids))
    found: list[dict[str, Any]] = []
    chunks = [wanted[i:i + per_page] for i in range(0, len(wanted), per_page)]
    pages = await asyncio.gather(*(
        client.list(resource, {**(params or {}), "include": join_ids(chunk), "per_page": per_page})
        for chunk in chunks
    ))
    for listing in pages:
        found.extend(item for item in listing.items() if isinstance(item, dict))
    return found
