"""Bench the data generator: construction time, scan throughput and peak memory.

Usage: ``python bench/datagen.py --customers 1000000``. Prints one line per measurement.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable
from datetime import datetime

from connector.sandbox.datagen import GeneratedShop, ShopSpec
from connector.sandbox.shop import Kind, Record


def _rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (ru_maxrss is in KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _scan_all(shop: GeneratedShop, kind: Kind, order_by: str, page: int) -> tuple[int, float]:
    """Page through every record of ``kind``; returns (records, seconds)."""
    start = time.perf_counter()
    after: tuple[datetime, int] | int | None = None
    seen = 0
    position: Callable[[Record], tuple[datetime, int] | int] = (
        (lambda r: r.key) if order_by == "key" else (lambda r: (r.updated_at, r.key))
    )
    while True:
        records = shop.scan(kind, order_by=order_by, after=after, limit=page)  # type: ignore[arg-type]
        if not records:
            break
        seen += len(records)
        after = position(records[-1])
    return seen, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    """Build one shop, scan everything, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders-per-customer", type=float, default=5.0)
    parser.add_argument("--page", type=int, default=250)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kinds", default="customers,orders,carts",
                        help="comma-separated kinds to scan (empty: construction only)")
    args = parser.parse_args(argv)

    spec = ShopSpec(name="bench", seed=args.seed, customers=args.customers,
                    orders_per_customer=args.orders_per_customer)
    start = time.perf_counter()
    shop = GeneratedShop(spec)
    built = time.perf_counter() - start
    print(f"construction: {built:.2f} s for {shop.count('customers'):,} customers, {shop.count('orders'):,} orders, "
          f"{shop.count('carts'):,} carts; peak RSS {_rss_mb():.0f} MB", flush=True)
    for kind in [k for k in args.kinds.split(",") if k]:
        for order_by in ("updated_at", "key"):
            seen, seconds = _scan_all(shop, kind, order_by, args.page)  # type: ignore[arg-type]
            assert seen == shop.count(kind), (kind, order_by, seen)  # noqa: S101 - a bench sanity check
            print(f"scan {kind:9} by {order_by:10}: {seen:>9,} records in {seconds:7.1f} s = "
                  f"{seen / seconds:>8,.0f} records/s", flush=True)
    print(f"peak RSS: {_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
