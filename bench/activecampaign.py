"""ActiveCampaign sink against the served sandbox with the real limits: requests, 429s, wall vs floor, bytes, RSS.

Prints figures; it asserts nothing. Usage::

    python bench/activecampaign.py                   # 50,000 new contacts, then 1% of them changed
    python bench/activecampaign.py --contacts 2000

What it does: serves the ActiveCampaign sandbox on 127.0.0.1 with the system clock and the real
limits (5 requests a second for the account, 100 multi-contact bulk imports a minute, both sliding
windows) and imports that complete ``1 s + 10 ms a contact`` after they were queued. An
:class:`~connectors.activecampaign.sink.ActiveCampaignSink` provisions the schema, then pushes two
plans built with :func:`connector.plan.diff_all`: every contact new (5 tags, 2 lists, 12 fields
each: first and last name, phone and 9 custom fields), then the same people with 1% changed (a
status tag swapped, which needs the tag removed, and the amount spent), so the unchanged 99%
produce no change and no request.

Per plan: requests by endpoint (what the sandbox answered), 429s, wall time against the floor the
limits imply, request bytes sent, and peak RSS. The floor is the larger of the bulk importer's
pace (imports x 60 s / 100) and the account's (the fewest requests the plan needs / 5 a second:
one import and one ``import/info`` per body, plus for the changes one ``GET contactTags`` and one
``DELETE contactTags`` per removed tag), plus the sandbox's processing time of the last import.
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
from math import ceil
from typing import Any

from measure import Counting, duration, peak_rss_mib, rss_line

from connector.clock import SystemClock
from connector.plan import diff_all
from connector.protocols import ContactState, Plan, PushStatus, SchemaSpec
from connector.sandbox.serve import ServedSandbox
from connectors.activecampaign import ActiveCampaignSettings, ActiveCampaignSink
from connectors.activecampaign.sandbox import SANDBOX_TOKEN, create_sandbox, importer_of

SEGMENTS = ("Segment – Champions", "Segment – Loyal", "Segment – New")
STATUSES = ("Status – Active", "Status – Lapsed")
PRODUCTS = ("Product – Shoes", "Product – Bags")
TAGS = (*SEGMENTS, *STATUSES, *PRODUCTS, "Source – Shop", "Trigger – Welcome")
LISTS = ("Customers", "Newsletter")
FIELDS = {"Total spent": "number", "Orders": "number", "Last order": "date", "First order": "date",
          "Lifecycle stage": "dropdown", "Country": "text", "City": "text", "Favourite category": "text",
          "Interests": "multiselect"}
STAGES = ("new", "active", "at_risk", "lapsed")
INTERESTS = ("Tea", "Coffee", "Cocoa")
BULK_PER_MINUTE, REQUESTS_PER_SECOND = 100, 5


def person(i: int, changed: bool = False) -> ContactState:
    """Person ``i``: 5 tags, 2 lists, 12 fields; ``changed`` swaps the status tag and the amount spent."""
    status = STATUSES[(i + changed) % 2]
    first = date(2020, 1, 1) + timedelta(days=i % 1500)
    return ContactState(
        email=f"customer{i:07d}@example.com",
        fields={"first_name": f"First{i}", "last_name": f"Last{i}", "phone": f"+4930{i:08d}",
                "Total spent": Decimal(i % 997) + Decimal("0.50") + (10 if changed else 0), "Orders": i % 13 + 1,
                "Last order": first + timedelta(days=90), "First order": first, "Lifecycle stage": STAGES[i % 4],
                "Country": "DE", "City": ("Berlin", "Hamburg", "Munich")[i % 3], "Favourite category": "Shoes",
                "Interests": INTERESTS[: i % 3 + 1]},
        tags=frozenset({SEGMENTS[i % 3], status, PRODUCTS[i % 2], "Source – Shop", "Trigger – Welcome"}),
        lists=frozenset(LISTS),
    )


def endpoint(path: str) -> str:
    return re.sub(r"/\d+", "/{id}", path.removeprefix("/api/3"))


async def push(sink: ActiveCampaignSink, sandbox: Any, transport: Counting, label: str,
               people: Sequence[tuple[str, ContactState]], pushed: dict[str, ContactState]) -> None:
    sandbox.log.clear()
    sent_before, jobs_before = transport.bytes, len(importer_of(sandbox).jobs)
    changes = tuple(diff_all(people, pushed))
    plan = Plan(sink="activecampaign", created_at=SystemClock().now(), changes=changes)
    started = time.perf_counter()
    statuses: Counter[PushStatus] = Counter()
    async for batch in sink.apply(plan):
        statuses.update(r.status for r in batch)
    wall = time.perf_counter() - started
    entries = sandbox.log.entries
    by_endpoint = Counter(f"{e.method} {endpoint(e.path)}" for e in entries)
    jobs = list(importer_of(sandbox).jobs.values())[jobs_before:]
    removals = sum(len(c.tags_remove) > 0 for c in changes)
    floor_requests = 2 * len(jobs) + 2 * removals
    last = importer_of(sandbox).seconds_for(len(jobs[-1].contacts)) if jobs else 0.0
    floor = max(len(jobs) * 60 / BULK_PER_MINUTE, floor_requests / REQUESTS_PER_SECOND) + last
    print(f"{label}: {len(people):,} people, {len(changes):,} changes, {len(jobs):,} imports "
          f"({', '.join(f'{s.value} {n:,}' for s, n in sorted(statuses.items()))})")
    for name, count in sorted(by_endpoint.items(), key=lambda kv: -kv[1]):
        print(f"    {count:>8,}  {name}")
    print(f"  requests {len(entries):,} (the floor needs {floor_requests:,}), "
          f"429s {sum(e.status == 429 for e in entries)}")
    print(f"  wall {duration(wall)}, floor {duration(floor)} ({wall / floor:.2f}x the floor)" if floor else
          f"  wall {duration(wall)}, no request needed")
    print(f"  bytes sent {(transport.bytes - sent_before) / 2**20:,.1f} MiB", flush=True)
    print(rss_line(f"after {label}"), flush=True)


async def _bench(args: argparse.Namespace) -> None:
    sandbox = create_sandbox(clock=SystemClock())
    people = [(f"p{i}", person(i)) for i in range(args.contacts)]
    print(f"{args.contacts:,} people built", flush=True)
    print(rss_line("after building the people"), flush=True)
    with ServedSandbox(sandbox) as base_url:
        print(f"sandbox: {base_url}, real limits (5 req/s, 100 bulk imports/min), imports 1 s + 10 ms a contact")
        transport = Counting()
        settings = ActiveCampaignSettings(url=base_url, api_key=SANDBOX_TOKEN)
        sink = ActiveCampaignSink(settings, transport=transport)
        started = time.perf_counter()
        await sink.ensure_schema(SchemaSpec(lists=frozenset(LISTS), tags=frozenset(TAGS), fields=FIELDS,
                                            options={"Lifecycle stage": STAGES, "Interests": INTERESTS}))
        schema_requests = sandbox.log.count()
        print(f"schema: {schema_requests} requests ({sink.schema.writes} writes) in "
              f"{duration(time.perf_counter() - started)}", flush=True)
        await push(sink, sandbox, transport, "plan 1 (all new)", people, {})
        pushed = dict(people)
        step = max(1, round(100 / args.changed_percent))
        changed = [(pid, person(i, changed=i % step == 0)) for i, (pid, _) in enumerate(people)]
        print(f"{ceil(args.contacts / step):,} people changed", flush=True)
        await push(sink, sandbox, transport, f"plan 2 ({args.changed_percent:g}% changed)", changed, pushed)
        await sink.aclose()
    print(f"  peak RSS: {peak_rss_mib():,.0f} MiB")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--changed-percent", type=float, default=1.0)
    asyncio.run(_bench(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
