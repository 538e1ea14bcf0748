"""State-store throughput: bulk upserts and the per-customer aggregate the segmentation core runs.

Prints figures; it asserts nothing. Usage::

    python bench/store.py                         # 100,000 customers, 500,000 orders, SQLite
    python bench/store.py --customers 1000000     # the 1M / 5M scale
    python bench/store.py --url postgresql+psycopg://postgres@127.0.0.1:5432/test

Records are built with ``model_construct`` (already-valid data), so the figures measure the
store, not pydantic validation. Each order has 1 + (n mod 4) line items (about 2.5 on average,
as in real shops).
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text

from connector.models import (
    Address,
    ConsentState,
    Customer,
    FinancialStatus,
    LineItem,
    MarketingConsent,
    Order,
    OrderStatus,
)
from connector.store import Store

T0 = datetime(2021, 1, 1, tzinfo=UTC)
CATEGORIES = [f"Category {i}" for i in range(20)]


def customers(n: int, version: int = 0) -> Iterator[Customer]:
    for i in range(1, n + 1):
        yield Customer.model_construct(
            id=f"shopify:bench:{i}",
            email=f"person{i}@mail{i % 97}.com",
            first_name="Ada",
            last_name=f"Lovelace{version}",
            phone=None,
            address=Address.model_construct(country="FR", region=None, city="Lyon", postal_code="69001"),
            birthday=None,
            company=None,
            locale="fr-FR",
            tags=("loyalty-gold",) if i % 7 == 0 else (),
            created_at=T0 + timedelta(minutes=i),
            updated_at=T0 + timedelta(minutes=i, seconds=version),
            consent=MarketingConsent.model_construct(
                state=ConsentState.SUBSCRIBED, updated_at=T0, source="bench", opt_in_level=None
            ),
            is_staff=False,
            attributes={},
            issues=(),
        )


def orders(n_customers: int, per_customer: int, seed: int = 7) -> Iterator[Order]:
    rng = random.Random(seed)  # noqa: S311 - bench data, not security
    n = n_customers * per_customer
    for j in range(1, n + 1):
        customer = rng.randint(1, n_customers)
        lines = tuple(
            LineItem.model_construct(
                line_id=f"{j}-{k}", product_id=str(rng.randint(1, 200)), variant_id=None, sku=None,
                title="Item", product_type="T-shirt", category=CATEGORIES[rng.randrange(20)], vendor="Acme",
                quantity=rng.randint(1, 3), unit_price=Decimal("19.90"), total=None, refunded_quantity=0,
            )
            for k in range(1 + j % 4)
        )
        created = T0 + timedelta(minutes=j)
        yield Order.model_construct(
            id=f"shopify:bench:o{j}", customer_id=f"shopify:bench:{customer}", email=None, number=str(1000 + j),
            status=OrderStatus.COMPLETED, financial_status=FinancialStatus.PAID, currency="EUR",
            subtotal=Decimal("39.80"), discount_total=Decimal(0), shipping_total=Decimal("4.90"),
            tax_total=Decimal("8.90"), total=Decimal("53.60"), refunded_total=Decimal(0), discount_codes=(),
            source_channel="web", test=False, created_at=created, updated_at=created, processed_at=created,
            cancelled_at=None, billing_address=Address.model_construct(country="FR", region=None, city=None,
                                                                       postal_code=None),
            line_items=lines, attributes={},
        )


def timed(label: str, rows: int, fn) -> float:  # noqa: ANN001 - a bench helper
    started = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - started
    print(f"{label:<52} {elapsed:8.1f} s   {rows / elapsed:>10,.0f} rows/s")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders-per-customer", type=int, default=5)
    parser.add_argument("--url", help="SQLAlchemy URL (default: a SQLite file in a temporary directory)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        n, per = args.customers, args.orders_per_customer
        print(f"store: {url.split('://')[0]}   customers: {n:,}   orders: {n * per:,}")
        with Store.open(url) as store:
            if args.url:  # a shared server: start from empty tables
                with store.engine.begin() as conn:
                    conn.execute(text("TRUNCATE line_items, orders, carts, customers RESTART IDENTITY CASCADE"))
            timed("upsert customers (insert)", n, lambda: store.upsert_customers(customers(n)))
            timed("upsert orders + line items (insert)", n * per, lambda: store.upsert_orders(orders(n, per)))
            lines = store.count("line_items")
            print(f"{'line items stored':<52} {lines:>8,}")
            timed("upsert customers again (all updated)", n, lambda: store.upsert_customers(customers(n, 1)))
            redo = max(1, n * per // 10)
            timed("upsert 10% of orders again (update + new lines)", redo,
                  lambda: store.upsert_orders(o for o, _ in zip(orders(n, per), range(redo), strict=False)))

            def favourite_category() -> None:
                # The per-customer aggregate the segmentation core runs, on the covering index.
                with store.engine.connect() as conn:
                    conn.execute(text(
                        "SELECT customer_id, category, SUM(quantity) FROM line_items "
                        "WHERE customer_id IS NOT NULL GROUP BY customer_id, category"
                    )).fetchall()

            timed("units per (customer, category), all customers", lines, favourite_category)
        if not args.url:
            size = (Path(tmp) / "bench.db").stat().st_size
            print(f"{'SQLite file size':<52} {size / 2**20:8.0f} MiB")
    print(f"{'peak RSS':<52} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.0f} MiB")


if __name__ == "__main__":
    main()
