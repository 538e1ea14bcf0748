"""Shopify backfill: bulk export versus paginated reads, against the served sandbox on a real clock.

Prints figures; it asserts nothing. Usage::

    python bench/shopify.py                                   # 100,000 customers, ~500,000 orders
    python bench/shopify.py --customers 2000 --paged-seconds 15
    python bench/shopify.py --skip-bulk --paged-seconds 120   # pacing only

What it does: generates one shop (timed), serves the Shopify sandbox for it on 127.0.0.1 with the
system clock and the plan's cost bucket (Standard: 2,000 points, restoring 100 points/s), and
reads it with a real :class:`~connectors.shopify.source.ShopifySource` over HTTP:

1. **Bulk backfill** of customers, orders (with line items) and abandoned checkouts: one
   ``bulkOperationRunQuery`` per stream, polled with the source's default policy, then the JSONL
   download streamed and normalised. ``export wait`` is the time until the download started: the
   export job the sandbox simulates (1 s + 2 s per 10,000 root records), the source's poll
   back-off (1 s doubling to 30 s), and the sandbox writing the JSONL file (``file write``, done
   inside the first poll that sees the job COMPLETED). The rest is download, parse and normalise.
2. **Paginated backfill**, time-boxed to ``--paged-seconds`` per stream, because at 100 points/s
   the full paginated read of 500,000 orders takes days. Each stream starts with a full bucket
   (the bench waits for it), as a backfill would. From the sample: the actual points charged per
   record; the floor the bucket imposes on the sample, ``(points charged before the last query +
   its requested cost - bucket at start) / restore rate`` (Shopify only runs a query once its
   *requested* cost is in the bucket, then refunds the unused part); the pacing ratio
   ``wall / floor`` (1.00 is perfect, the target is within ~10%); and the extrapolated full
   paginated time, ``(points/record x records - bucket) / restore rate x pacing``. The sample
   reads the oldest records (ascending ``updatedAt``; checkouts in id order).
3. A summary: bulk total versus extrapolated paginated total, and the factor between them.

THROTTLED replies are counted twice: on the sandbox side (a GraphQL answer the engine charged 0
points for is a THROTTLED one; an HTTP 429 too) and by the client's own ``throttled`` counter.
Both should be 0: the client paces itself by the bucket.

Peak RSS is the whole process: the generated shop's indexes and the sandbox server thread
included (the export files themselves are anonymous temporary files on disk, not memory). RSS
after the shop is built is printed too, so the share of the source and sandbox can be read off.

Duration: about 20 minutes at the default 100,000 customers on 2 cores, 16.5 of them the bulk
backfill, which is mostly the sandbox writing the ~1 GB, 500,000-order export file (~400 s,
single-threaded, in the same process) and the source parsing it (~360 s). The served sandbox
writes that file on a worker thread while the job is RUNNING (as Shopify does), so polls answer
at once; ``--read-timeout`` (default 1,200 s; 0 keeps the client's own) remains as a safety margin
for a loaded machine, on the loopback transport only. A stream that fails anyway is reported as
FAILED; the bench goes on.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from measure import duration, peak_rss_mib, rss_line

from connector.errors import ConnectorError
from connector.models import Cart, Order
from connector.protocols import Stream, iter_stream
from connector.sandbox.app import SandboxApp
from connector.sandbox.datagen import GeneratedShop, ShopSpec
from connector.sandbox.log import RequestEntry, RequestLog
from connector.sandbox.serve import ServedSandbox
from connectors.shopify.sandbox import SANDBOX_TOKEN, create_sandbox, engine_of
from connectors.shopify.sandbox_cost import PLANS, Plan
from connectors.shopify.settings import ShopifySettings
from connectors.shopify.source import ShopifySource

STREAMS: tuple[str, ...] = ("customers", "orders", "carts")
GRAPHQL_PREFIX = "/admin/api/"
DOWNLOAD_PREFIX = "/bulk/"


# --------------------------------------------------------------------------- memory








# --------------------------------------------------------------------------- formatting




def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        rest = [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([cells[0].ljust(widths[0]), *rest]).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def _int(value: float) -> str:
    return f"{value:,.0f}"


def _opt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


# --------------------------------------------------------------------------- transport


class _LoopbackTransport(httpx.AsyncBaseTransport):
    """Plain HTTP to the served sandbox, with a longer read timeout than the client's own.

    Only the read timeout changes (see ``--read-timeout`` and the module docstring); everything
    else, retries and pacing included, is the source's own.
    """

    def __init__(self, read_timeout: float) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._read_timeout = read_timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = dict(request.extensions.get("timeout") or {})
        timeout["read"] = self._read_timeout
        request.extensions = {**request.extensions, "timeout": timeout}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


# --------------------------------------------------------------------------- one stream


@dataclass
class Run:
    """What reading one stream took and gave."""

    stream: str
    total: int  # records of this kind in the shop
    records: int = 0
    rejected: int = 0  # quarantined whole
    dropped: int = 0  # quarantine entries for a dropped field (the record itself was kept)
    line_items: int = 0
    pages: int = 0
    seconds: float = 0.0
    complete: bool = True
    error: str | None = None  # the stream failed: why
    posts: int = 0  # GraphQL POSTs the sandbox received
    downloads: int = 0  # bulk JSONL downloads
    retries: int = 0  # the client's HTTP retries (time-outs, 5xx, 429)
    throttled: int = 0  # THROTTLED answers and HTTP 429s, as the sandbox logged them
    client_throttled: int = 0  # THROTTLED replies the client counted
    points: float = 0.0  # actual cost charged
    bucket_start: float = 0.0  # points in the sandbox bucket when the stream started
    last_requested: float = 0.0  # the last query's requested cost (what had to be in the bucket for it)
    last_actual: float = 0.0  # and its actual cost
    export_wait: float | None = None  # bulk: seconds until the download request arrived
    export_job: float | None = None  # bulk: how long the sandbox kept the job CREATED and RUNNING
    slowest_post: float | None = None  # seconds; in bulk, the poll that wrote the export file
    export_bytes: int | None = None

    @property
    def read(self) -> int:
        """Records fetched, quarantined ones included."""
        return self.records + self.rejected

    @property
    def per_second(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0

    @property
    def points_per_record(self) -> float:
        return self.points / self.read if self.read else 0.0



def _is_throttled(entry: RequestEntry) -> bool:
    """A THROTTLED reply as the sandbox logged it: a 429, or a GraphQL answer charged 0 points.

    The engine charges 0 exactly for THROTTLED; every other answer to the source's documents
    costs at least 1 point (answers refused before costing anything are logged with None).
    """
    if entry.status == 429:
        return True
    return entry.path.startswith(GRAPHQL_PREFIX) and entry.status == 200 and entry.cost == 0.0


async def _read_stream(
    source: ShopifySource, stream: str, total: int, log: RequestLog, bucket_start: float,
    time_box: float | None = None,
) -> Run:
    """Backfill one stream (``since=None``), stopping after ``time_box`` seconds if given.

    A failure (export failed, retries exhausted) ends the stream and is kept in ``Run.error``.
    """
    run = Run(stream, total, bucket_start=bucket_start)
    first_entry = len(log)
    throttled_before = source.client.throttled
    retries_before = source.client.http.stats.retries
    started = time.monotonic()
    pages = iter_stream(source, Stream(stream), None)
    try:
        async for page in pages:
            run.pages += 1
            run.records += len(page.records)
            for entry in page.quarantined:
                if entry.action == "rejected":
                    run.rejected += 1
                else:
                    run.dropped += 1
            for record in page.records:
                if isinstance(record, Order):
                    run.line_items += len(record.line_items)
                elif isinstance(record, Cart):
                    run.line_items += len(record.items)
            if time_box is not None and time.monotonic() - started >= time_box:
                break
    except ConnectorError as exc:
        run.error = f"{type(exc).__name__}: {exc}"
    finally:
        close = getattr(pages, "aclose", None)
        if close is not None:
            await close()
    run.seconds = time.monotonic() - started
    run.complete = run.error is None and run.read >= total
    run.client_throttled = source.client.throttled - throttled_before
    run.retries = source.client.http.stats.retries - retries_before
    last = source.client.last_cost
    if last is not None:
        run.last_requested = last.requested_query_cost or 0.0
        run.last_actual = last.actual_query_cost or 0.0
    for entry in log.entries[first_entry:]:
        if entry.path.startswith(GRAPHQL_PREFIX):
            run.posts += 1
            run.points += entry.cost or 0.0
            run.slowest_post = max(run.slowest_post or 0.0, entry.latency_ms / 1000)
        elif entry.path.startswith(DOWNLOAD_PREFIX):
            run.downloads += 1
            if run.export_wait is None:
                run.export_wait = entry.at - started  # the sandbox runs on the same monotonic clock
        run.throttled += _is_throttled(entry)
    return run


# --------------------------------------------------------------------------- phases


def _source(settings: ShopifySettings, sandbox: SandboxApp, *, bulk: bool, read_timeout: float | None) -> ShopifySource:
    transport = _LoopbackTransport(read_timeout) if read_timeout is not None else None  # None: the source's own
    return ShopifySource(settings.shop, settings, clock=sandbox.clock, bulk=bulk, transport=transport)


async def _bulk_phase(
    settings: ShopifySettings, sandbox: SandboxApp, totals: dict[str, int], read_timeout: float | None
) -> list[Run]:
    engine = engine_of(sandbox)
    source = _source(settings, sandbox, bulk=True, read_timeout=read_timeout)
    runs = []
    try:
        for stream in STREAMS:
            previous = engine.bulk.current()
            run = await _read_stream(source, stream, totals[stream], sandbox.log, engine.bucket.available())
            job = engine.bulk.current()
            if job is not None and job is not previous:
                run.export_job = engine.bulk.startup_seconds + job.seconds
                run.export_bytes = job.result.size if job.result is not None else None
            runs.append(run)
            status = f"FAILED ({run.error})" if run.error else "done"
            print(f"  bulk {stream}: {run.read:,} records in {duration(run.seconds)}, {status}", flush=True)
    finally:
        await source.aclose()
    return runs


async def _paged_phase(
    settings: ShopifySettings, sandbox: SandboxApp, totals: dict[str, int], time_box: float,
    read_timeout: float | None,
) -> list[Run]:
    bucket = engine_of(sandbox).bucket
    source = _source(settings, sandbox, bulk=False, read_timeout=read_timeout)
    runs = []
    try:
        for stream in STREAMS:
            # Start each sample as a backfill starts: with a full bucket (both sides refill at the same rate).
            await asyncio.sleep(max(0.0, (bucket.size - bucket.available()) / bucket.restore_rate) + 0.2)
            run = await _read_stream(source, stream, totals[stream], sandbox.log, bucket.available(), time_box)
            runs.append(run)
            status = f"FAILED ({run.error})" if run.error else "stopped" if not run.complete else "done"
            print(f"  paged {stream}: {run.read:,} records in {duration(run.seconds)}, {status}", flush=True)
    finally:
        await source.aclose()
    return runs


# --------------------------------------------------------------------------- reports


def _bulk_report(runs: Sequence[Run]) -> str:
    headers = ["stream", "records", "quarantined", "fields dropped", "line items", "wall s", "export job s",
               "file write s", "export wait s", "download+parse s", "JSONL MiB", "records/s", "GraphQL POSTs",
               "downloads", "retries", "THROTTLED (sandbox/client)"]
    rows = []
    for run in runs:
        parse = run.seconds - run.export_wait if run.export_wait is not None else None
        rows.append([
            run.stream, _int(run.read), _int(run.rejected), _int(run.dropped),
            _int(run.line_items) if run.stream != "customers" else "-", f"{run.seconds:.1f}",
            _opt(run.export_job), _opt(run.slowest_post), _opt(run.export_wait), _opt(parse),
            _opt(run.export_bytes / 2**20 if run.export_bytes is not None else None),
            _int(run.per_second), str(run.posts), str(run.downloads), str(run.retries),
            f"{run.throttled}/{run.client_throttled}",
        ])
    seconds = sum(r.seconds for r in runs)
    read = sum(r.read for r in runs)
    wait = sum(r.export_wait or 0.0 for r in runs)
    rows.append([
        "total", _int(read), _int(sum(r.rejected for r in runs)), _int(sum(r.dropped for r in runs)),
        _int(sum(r.line_items for r in runs)), f"{seconds:.1f}", f"{sum(r.export_job or 0.0 for r in runs):.1f}",
        f"{sum(r.slowest_post or 0.0 for r in runs):.1f}", f"{wait:.1f}", f"{seconds - wait:.1f}",
        f"{sum(r.export_bytes or 0 for r in runs) / 2**20:.1f}", _int(read / seconds if seconds else 0.0),
        str(sum(r.posts for r in runs)), str(sum(r.downloads for r in runs)), str(sum(r.retries for r in runs)),
        f"{sum(r.throttled for r in runs)}/{sum(r.client_throttled for r in runs)}",
    ])
    return _table(headers, rows)


@dataclass(frozen=True)
class Floor:
    """The restore-rate floor of one stream's paginated backfill, and what the sample says about pacing."""

    sample_floor: float  # seconds the bucket imposes on the sample, given the points at its start
    pacing: float | None  # sample wall / sample floor; None when the sample fit in the initial bucket
    full_floor: float  # seconds the bucket imposes on the whole stream, from a full bucket
    extrapolated: float  # the whole stream's paginated wall time


def _floor(run: Run, size: float, rate: float) -> Floor:
    # The last query is sent only once its *requested* cost is in the bucket (Shopify charges that up
    # front and refunds the rest): the points charged before it, plus that, less the bucket at start.
    needed = run.points - run.last_actual + run.last_requested
    sample_floor = max(0.0, needed - run.bucket_start) / rate
    pacing = run.seconds / sample_floor if sample_floor > 0 else None
    full_floor = max(0.0, run.points_per_record * run.total - size) / rate
    if run.complete:
        extrapolated = run.seconds
    else:
        extrapolated = full_floor * (pacing if pacing is not None else 1.0)
    return Floor(sample_floor, pacing, full_floor, extrapolated)


def _paged_report(
    runs: Sequence[Run], bulk: Sequence[Run], size: float, rate: float
) -> tuple[str, str, float, float]:
    """The sample table, the extrapolation table, the total floor and the total extrapolated time."""
    sample_headers = ["stream", "records", "quarantined", "pages", "wall s", "records/s", "GraphQL POSTs",
                      "actual points", "points/record", "floor s", "measured ms/record", "floor ms/record", "pacing",
                      "THROTTLED (sandbox/client)"]
    full_headers = ["stream", "records in shop", "sampled", "floor", "extrapolated", "records/s", "bulk wall",
                    "bulk faster by"]
    bulk_by_stream = {r.stream: r for r in bulk if r.error is None}
    sample_rows, full_rows = [], []
    total_floor = total_extrapolated = 0.0
    for run in runs:
        floor = _floor(run, size, rate)
        ppr = run.points_per_record
        # Time per record paid for with restored points (not with the bucket the stream started with).
        restored_records = floor.sample_floor * rate / ppr if ppr else 0.0
        per_record = run.seconds / restored_records * 1000 if restored_records > 0 else None
        sample_rows.append([
            run.stream, _int(run.read), _int(run.rejected), _int(run.pages), f"{run.seconds:.1f}",
            f"{run.per_second:,.1f}", str(run.posts), _int(run.points), f"{ppr:.2f}",
            f"{floor.sample_floor:.1f}", _opt(per_record), f"{ppr / rate * 1000:.1f}",
            _opt(floor.pacing, ".3f") if floor.pacing is not None else "in bucket",
            f"{run.throttled}/{run.client_throttled}",
        ])
        bulk_run = bulk_by_stream.get(run.stream)
        usable = run.error is None and run.read > 0
        full_rows.append([
            run.stream, _int(run.total), "all" if run.complete else f"{run.read / max(1, run.total):.2%}",
            duration(floor.full_floor) if usable else "-", duration(floor.extrapolated) if usable else "FAILED",
            f"{run.total / floor.extrapolated:,.1f}" if usable and floor.extrapolated > 0 else "-",
            duration(bulk_run.seconds) if bulk_run else "-",
            f"{floor.extrapolated / bulk_run.seconds:,.0f}x" if bulk_run and usable and bulk_run.seconds else "-",
        ])
        total_floor += floor.full_floor
        total_extrapolated += floor.extrapolated
    total_records = sum(r.total for r in runs)
    bulk_total = sum(r.seconds for r in bulk_by_stream.values())
    bulk_complete = len(bulk_by_stream) == len(runs) and all(r.error is None for r in runs)
    full_rows.append([
        "total", _int(total_records), "", duration(total_floor), duration(total_extrapolated),
        f"{total_records / total_extrapolated:,.1f}" if total_extrapolated > 0 else "-",
        duration(bulk_total) if bulk_complete else "-",
        f"{total_extrapolated / bulk_total:,.0f}x" if bulk_complete and bulk_total else "-",
    ])
    return _table(sample_headers, sample_rows), _table(full_headers, full_rows), total_floor, total_extrapolated


def _failures(runs: Sequence[Run], mode: str) -> list[str]:
    return [f"  {mode} {r.stream} FAILED after {duration(r.seconds)}: {r.error}" for r in runs if r.error]


# --------------------------------------------------------------------------- main


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000, help="customers in the shop (default 100,000)")
    parser.add_argument("--orders-per-customer", type=float, default=5.0,
                        help="orders per customer on average, guests included (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="the generated shop's seed (default 1)")
    parser.add_argument("--plan", choices=sorted(PLANS), default="standard",
                        help="the shop's plan, which sets the cost bucket (default standard)")
    parser.add_argument("--paged-seconds", type=float, default=60.0,
                        help="how long to read each stream page by page (default 60)")
    parser.add_argument("--skip-bulk", action="store_true", help="measure the paginated path only")
    parser.add_argument("--read-timeout", type=float, default=1200.0,
                        help="HTTP read timeout in seconds (default 1200; 0 keeps the client's own 60 s): the "
                             "sandbox writes a bulk export file inside a poll, which takes minutes at 500,000 orders")
    return parser.parse_args(argv)


async def _bench(args: argparse.Namespace) -> None:
    plan: Plan = args.plan
    size, rate = PLANS[plan]
    read_timeout: float | None = args.read_timeout or None
    spec = ShopSpec(name="bench", seed=args.seed, customers=args.customers,
                    orders_per_customer=args.orders_per_customer)
    print(f"Shopify backfill bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs", flush=True)
    started = time.perf_counter()
    shop = GeneratedShop(spec)
    built = time.perf_counter() - started
    totals = {stream: shop.count(stream) for stream in ("customers", "orders", "carts")}
    print(f"  shop: {totals['customers']:,} customers, {totals['orders']:,} orders, {totals['carts']:,} "
          f"abandoned checkouts (seed {args.seed}, {args.orders_per_customer:g} orders/customer); "
          f"built in {built:.1f} s")
    print(f"  plan: {plan} (bucket {size:,.0f} points, restore {rate:,.0f} points/s); paginated sample: "
          f"{args.paged_seconds:g} s per stream; HTTP read timeout: "
          f"{f'{read_timeout:g} s' if read_timeout else 'the client default'}")
    print(rss_line("after the shop was built"), flush=True)

    sandbox = create_sandbox(shop=shop, plan=plan, served=True)  # the system clock
    bench_started = time.monotonic()
    with ServedSandbox(sandbox) as base_url:
        print(f"  sandbox served at {base_url} (same process, own thread)", flush=True)
        settings = ShopifySettings(shop=shop.name, access_token=SANDBOX_TOKEN, base_url=base_url, use_bulk=True)
        bulk_runs: list[Run] = []
        if not args.skip_bulk:
            bulk_runs = await _bulk_phase(settings, sandbox, totals, read_timeout)
            print(rss_line("after the bulk backfill"), flush=True)
        paged_runs = await _paged_phase(settings, sandbox, totals, args.paged_seconds, read_timeout)
        engine_of(sandbox).bulk.close()
    peak = peak_rss_mib()
    served = time.monotonic() - bench_started

    print()
    if bulk_runs:
        print("Bulk backfill (bulkOperationRunQuery, polled, then the JSONL download streamed and normalised)")
        print(_bulk_report(bulk_runs))
        print()
    sample, full, total_floor, total_extrapolated = _paged_report(paged_runs, bulk_runs, size, rate)
    print(f"Paginated backfill sample ({args.paged_seconds:g} s per stream, each from a full bucket; floor = (points "
          f"before the last query + its requested cost - bucket at start) / {rate:g} points/s; pacing = wall / floor; "
          "measured ms/record = wall / records paid for with restored points)")
    print(sample)
    print()
    print(f"Full paginated backfill, extrapolated (floor = (points/record x records - {size:,.0f}) / {rate:g} "
          "points/s, each stream from a full bucket; extrapolated = floor x pacing, or as measured when the "
          "sample read it all)")
    print(full)
    failures = _failures(bulk_runs, "bulk") + _failures(paged_runs, "paged")
    if failures:
        print()
        print("Failures")
        print("\n".join(failures))
    print()
    print("Summary")
    rows = [["shop", f"{totals['customers']:,} customers, {totals['orders']:,} orders, {totals['carts']:,} carts"],
            ["plan, seed", f"{plan}, {args.seed}"]]
    bulk_ok = bool(bulk_runs) and not any(r.error for r in [*bulk_runs, *paged_runs])
    bulk_total = sum(r.seconds for r in bulk_runs)
    if bulk_runs:
        rows.append(["bulk backfill, wall", f"{duration(bulk_total)} ({bulk_total:,.1f} s)"
                     + ("" if bulk_ok else ", INCOMPLETE: see Failures")])
    rows.append(["paginated backfill, floor", f"{duration(total_floor)} ({total_floor:,.0f} s)"])
    rows.append(["paginated backfill, extrapolated", f"{duration(total_extrapolated)} ({total_extrapolated:,.0f} s)"])
    if bulk_ok and bulk_total > 0:
        rows.append(["bulk versus paginated", f"bulk is {total_extrapolated / bulk_total:,.0f}x faster"])
    throttled = sum(r.throttled for r in [*bulk_runs, *paged_runs])
    client_throttled = sum(r.client_throttled for r in [*bulk_runs, *paged_runs])
    rows.append(["THROTTLED replies (sandbox/client)", f"{throttled}/{client_throttled}"])
    rows.append(["wall time: shop build, then the rest", f"{built:.1f} s, then {duration(served)}"])
    rows.append(["peak RSS (process: shop + sandbox + source)", f"{peak:,.0f} MiB"])
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label.ljust(width)}  {value}")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the bench and print its tables."""
    asyncio.run(_bench(_arguments(argv)))


if __name__ == "__main__":
    main()
