"""WooCommerce backfill against the served sandbox with a slow host: records/s, requests, wall time, RSS.

Prints figures; it asserts nothing. Usage::

    python bench/woocommerce.py                               # 100,000 customers, ~500,000 orders, 150 ms
    python bench/woocommerce.py --customers 5000 --concurrency 1,4
    python bench/woocommerce.py --latency 0.05 --streams orders

What it does: generates one shop (timed), serves the WooCommerce sandbox for it on 127.0.0.1 with
the system clock and a simulated server latency (``--latency``, default 150 ms per request, slept
asynchronously, so concurrent requests overlap as they would on a real PHP host with several
workers), and backfills it with a real :class:`~connectors.woocommerce.source.WooCommerceSource`
over HTTP, once per ``--concurrency`` value (default ``1,4``: without and with concurrency). The
shop is on plain HTTP, so every request carries an OAuth 1.0a signature the sandbox verifies.

Per run and stream: records read (distinct ids), requests the sandbox answered, wall time and
records per second. Requests are a floor of ``records / 100`` (WordPress's page limit) plus the
keyset windows' boundary re-reads. Peak RSS is the whole process: the generated shop's indexes
and the sandbox server thread included; the RSS after the shop is built is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from measure import duration, peak_rss_mib, rss_line

from connector.clock import SystemClock
from connector.protocols import Stream, iter_stream
from connector.sandbox.datagen import GeneratedShop, ShopSpec
from connector.sandbox.serve import ServedSandbox
from connectors.woocommerce.sandbox import SANDBOX_KEY, SANDBOX_SECRET, create_sandbox
from connectors.woocommerce.settings import WooCommerceSettings
from connectors.woocommerce.source import WooCommerceSource

STREAMS = ("customers", "orders", "carts")
API_PREFIX = "/wp-json/wc/v3/"










@dataclass
class Run:
    concurrency: int
    stream: str
    records: int
    quarantined: int
    derived: int  # guest customers found on orders pages
    requests: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0



async def _read(source: WooCommerceSource, stream: str, sandbox: Any, concurrency: int) -> Run:
    sandbox.log.clear()
    ids: set[str] = set()
    quarantined = derived = 0
    started = time.perf_counter()
    async for page in iter_stream(source, Stream(stream), None):
        ids.update(record.id for record in page.records)
        quarantined += len(page.quarantined)
        derived += len(page.customers)
    seconds = time.perf_counter() - started
    requests = sandbox.log.count(path_prefix=API_PREFIX)
    return Run(concurrency, stream, len(ids), quarantined, derived, requests, seconds)


def _table(runs: Sequence[Run]) -> str:
    headers = ("concurrency", "stream", "records", "quarantined", "requests", "wall", "records/s")
    rows = [(str(r.concurrency), r.stream, f"{r.records:,}", f"{r.quarantined:,}", f"{r.requests:,}",
             duration(r.seconds), f"{r.per_second:,.0f}") for r in runs]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  " + "  ".join(c.rjust(w) if i != 1 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths,
                                                                                                     strict=True)))

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(row) for row in rows)])


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders-per-customer", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency", type=float, default=0.15, help="seconds the host takes per request")
    parser.add_argument("--concurrency", default="1,4", help="comma-separated values, one backfill each")
    parser.add_argument("--streams", default="customers,orders,carts")
    return parser.parse_args(argv)


async def _bench(args: argparse.Namespace) -> None:
    levels = [int(v) for v in args.concurrency.split(",") if v.strip()]
    streams = [s.strip() for s in args.streams.split(",") if s.strip()]
    unknown = set(streams) - set(STREAMS)
    if unknown:
        raise SystemExit(f"unknown stream(s): {', '.join(sorted(unknown))}; expected {', '.join(STREAMS)}")
    started = time.perf_counter()
    shop = GeneratedShop(ShopSpec(name="bench", seed=args.seed, customers=args.customers,
                                  orders_per_customer=args.orders_per_customer))
    print(f"shop: {shop.count('customers'):,} customers, {shop.count('orders'):,} orders "
          f"(generated in {duration(time.perf_counter() - started)})", flush=True)
    print(rss_line("after the shop was built"), flush=True)
    clock = SystemClock()
    sandbox = create_sandbox(shop=shop, clock=clock, latency_seconds=args.latency)
    runs: list[Run] = []
    with ServedSandbox(sandbox) as base_url:
        print(f"sandbox: {base_url}, {args.latency * 1000:.0f} ms per request, plain HTTP (OAuth 1.0a)", flush=True)
        for level in levels:
            settings = WooCommerceSettings(url=base_url, consumer_key=SANDBOX_KEY, consumer_secret=SANDBOX_SECRET,
                                           concurrency=level, max_requests_per_second=100,
                                           consent_meta_key="_newsletter_optin")
            for stream in streams:
                source = WooCommerceSource("bench", settings, clock=clock)
                try:
                    run = await _read(source, stream, sandbox, level)
                finally:
                    await source.aclose()
                runs.append(run)
                print(f"  concurrency {level}, {stream}: {run.records:,} records, {run.requests:,} requests, "
                      f"{duration(run.seconds)}, {run.per_second:,.0f} records/s", flush=True)
            print(rss_line(f"after concurrency {level}"), flush=True)
    print()
    print(_table(runs))
    total = {level: sum(r.seconds for r in runs if r.concurrency == level) for level in levels}
    for level in levels:
        print(f"  backfill at concurrency {level}: {duration(total[level])}")
    if len(levels) > 1 and total[levels[-1]]:
        print(f"  speed-up {levels[-1]} vs {levels[0]}: {total[levels[0]] / total[levels[-1]]:.2f}x")
    print(f"  peak RSS: {peak_rss_mib():,.0f} MiB")


def main(argv: Sequence[str] | None = None) -> None:
    asyncio.run(_bench(_arguments(argv)))


if __name__ == "__main__":
    main()
