"""Brevo sink against the served sandbox with Brevo's real limits: requests, 429s, wall time vs the floor, bytes, RSS.

Prints figures; it asserts nothing. Usage::

    python bench/brevo.py                     # 50,000 new contacts, then 1% of them changed
    python bench/brevo.py --contacts 2000

What it does: serves the Brevo sandbox on 127.0.0.1 with the system clock and the General tier's
limits (``/v3/contacts/…`` 10 a second, every other endpoint, ``/v3/processes/{id}`` included, 100
an hour; sliding windows) and imports that take ``2 s + 0.2 ms a row`` one after another, as an
account's import queue does. A :class:`~connectors.brevo.sink.BrevoSink` then pushes two plans
built with :func:`connector.plan.diff_all`: every contact new (5 tags, 2 lists, 12 fields each),
then the same people with 1% changed, so the unchanged 99% produce no change and no request.

Per plan: requests by endpoint (what the sandbox answered), 429s, wall time against the floor the
limits imply (contacts requests at 10 a second, process reads past the first 100 at one per
36 s, plus the time the sandbox's import queue was busy), request bytes sent, and peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from measure import Counting, duration, peak_rss_mib, rss_line

from connector.clock import SystemClock
from connector.models import ConsentState
from connector.plan import diff_all
from connector.protocols import ContactState, Plan, PushStatus, SchemaSpec
from connector.sandbox.serve import ServedSandbox
from connectors.brevo import BrevoSettings, BrevoSink
from connectors.brevo.sandbox import SANDBOX_KEY, create_sandbox, imports_of

TAGS = tuple(f"Segment – {name}" for name in ("Champions", "Loyal", "New", "At risk", "Lapsed", "VIP", "Birthday",
                                               "Local"))
LISTS = ("Customers", "Newsletter")
FIELDS = {"Total spent": "number", "Orders": "number", "Last order": "date", "First order": "date",
          "Lifecycle stage": "dropdown", "Country": "text", "City": "text", "Favourite category": "text",
          "Interests": "multiselect", "first_name": "text", "last_name": "text", "phone": "text"}
INTERESTS = ("Tea", "Coffee", "Cocoa")


def person(i: int, changed: bool = False) -> ContactState:
    spent = Decimal(10 + i % 990) + (Decimal(25) if changed else Decimal(0))
    tags = frozenset(TAGS[(i + k) % len(TAGS)] for k in range(5))
    if changed:
        tags = (tags - {TAGS[i % len(TAGS)]}) | {TAGS[(i + 5) % len(TAGS)]}
    return ContactState(
        email=f"customer{i}@example.com",
        fields={"Total spent": spent, "Orders": 1 + i % 20, "Last order": date(2025, 1, 1) + timedelta(days=i % 365),
                "First order": date(2020, 1, 1) + timedelta(days=i % 1500),
                "Lifecycle stage": "active" if changed else ("new", "active", "lapsed")[i % 3],
                "Country": "FR", "City": ("Paris", "Lyon", "Nantes")[i % 3], "Favourite category": "Tea",
                "Interests": (INTERESTS[i % 3],), "first_name": f"First{i}", "last_name": f"Last{i}",
                "phone": f"+336{10_000_000 + i:08d}"},
        tags=tags, lists=frozenset(LISTS), consent=ConsentState.SUBSCRIBED,
    )


def endpoint(path: str) -> str:
    path = re.sub(r"/contacts/[^/]*@[^/]*", "/contacts/{email}", path)
    return re.sub(r"/\d+", "/{id}", path)


async def push(sink: BrevoSink, sandbox: Any, transport: Counting, label: str, people: Sequence[tuple[str, Any]],
               pushed: dict[str, ContactState] | None) -> None:
    sandbox.log.clear()
    sent_before = transport.bytes
    busy_before = _queue_busy(sandbox)
    started = time.perf_counter()
    plan = Plan(sink=sink.name, created_at=sink.clock.now(), changes=tuple(diff_all(people, pushed)))
    planned = time.perf_counter() - started
    outcome: Counter[str] = Counter()
    started = time.perf_counter()
    async for results in sink.apply(plan):
        outcome.update(r.status.value for r in results)
    wall = time.perf_counter() - started
    by_endpoint = Counter(f"{e.method} {endpoint(e.path)}" for e in sandbox.log.entries)
    throttled = sandbox.log.count(status=429)
    contacts = sum(n for k, n in by_endpoint.items() if k.split(" ")[1].startswith("/v3/contacts"))
    other = sum(by_endpoint.values()) - contacts
    busy = _queue_busy(sandbox) - busy_before
    floor = max(contacts / 10, max(0, other - 100) * 36.0) + busy
    print(f"\n{label}: {len(plan.changes):,} changes of {len(people):,} people (plan built in {duration(planned)}); "
          f"{outcome.get(PushStatus.CONFIRMED.value, 0):,} confirmed, {outcome.get(PushStatus.FAILED.value, 0):,} "
          f"failed")
    for key, count in sorted(by_endpoint.items()):
        print(f"  {count:>7,}  {key}")
    print(f"  requests {sum(by_endpoint.values()):,} (contacts budget {contacts:,}, other budget {other:,}); "
          f"429s {throttled}")
    print(f"  wall {duration(wall)}; floor {duration(floor)} (contacts at 10/s {duration(contacts / 10)}, "
          f"import queue busy {duration(busy)})")
    print(f"  bytes sent {(transport.bytes - sent_before) / 2**20:,.1f} MiB; peak RSS {peak_rss_mib():,.0f} MiB",
          flush=True)


def _queue_busy(sandbox: Any) -> float:
    return sum((p.done - p.starts).total_seconds() for p in imports_of(sandbox).processes.values())


async def _bench(args: argparse.Namespace) -> None:
    clock = SystemClock()
    sandbox = create_sandbox(clock=clock)
    print(rss_line("before"), flush=True)
    with ServedSandbox(sandbox) as base_url:
        transport = Counting()
        settings = BrevoSettings(api_key=SANDBOX_KEY, base_url=f"{base_url}/v3",
                                 tag_lists={TAGS[0]: "Champions"}, process_poll_initial_seconds=2.0)
        sink = BrevoSink(settings, name="bench", transport=transport, clock=clock)
        started = time.perf_counter()
        await sink.ensure_schema(SchemaSpec(lists=frozenset(LISTS), tags=frozenset(TAGS),
                                            fields=FIELDS, options={"Interests": INTERESTS}))
        print(f"schema provisioned in {duration(time.perf_counter() - started)} "
              f"({sandbox.log.count()} requests)", flush=True)
        people = [(f"p{i}", person(i)) for i in range(args.contacts)]
        await push(sink, sandbox, transport, "new contacts", people, None)
        pushed = dict(people)
        step = max(1, round(100 / args.changed_percent))
        changed = [(pid, person(i, changed=i % step == 0)) for i, (pid, _) in enumerate(people)]
        await push(sink, sandbox, transport, f"{args.changed_percent:g}% changed", changed, pushed)
        await sink.aclose()
    print(rss_line("after"), flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--changed-percent", type=float, default=1.0)
    asyncio.run(_bench(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
