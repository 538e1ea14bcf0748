"""Smoke run of the segmentation core's bench at 100,000 customers (the issue asks for it in CI).

It checks that the bench runs end to end and that its counts are consistent, not how fast it is:
speed is measured by the bench itself, and its figures are in the README.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "core.py"


def test_bench_core_runs_at_100000_customers(tmp_path: Path) -> None:
    run = subprocess.run(  # noqa: S603
        [sys.executable, str(BENCH), "--customers", "100000", "--quick", "--db", str(tmp_path / "core.db")],
        capture_output=True, text=True, timeout=600, cwd=BENCH.parent, check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    assert "customers 100,000" in out
    persons = int(re.search(r"persons ([\d,]+)", out).group(1).replace(",", ""))  # type: ignore[union-attr]
    # The first plan creates every person's contact: nothing was pushed before.
    first = re.search(r"plan: ([\d,]+) contacts \(([\d,]+) new", out)
    assert first is not None and first.group(1) == first.group(2) and int(first.group(1).replace(",", "")) == persons
    # 1% of customers changed (1,000): each touched person's plan entry is an update, none a creation.
    incremental = re.findall(r"plan: ([\d,]+) contacts \(0 new, ([\d,]+) updated\)", out)
    assert incremental and all(total == updated for total, updated in incremental)
    assert "4b. explain one person" in out
