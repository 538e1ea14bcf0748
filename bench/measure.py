"""What every bench prints: resident memory and durations a person reads at a glance.

Imported by the bench scripts, which run as ``python bench/<name>.py`` (so this folder is on
``sys.path``).
"""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

import httpx

__all__ = ["current_rss_mib", "duration", "peak_rss_mib", "rss_line"]


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def current_rss_mib() -> float | None:
    """Resident set size right now (Linux only; None elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def rss_line(label: str) -> str:
    """``  RSS <label>: N MiB now, M MiB peak``."""
    current = current_rss_mib()
    now = f"{current:,.0f} MiB now, " if current is not None else ""
    return f"  RSS {label}: {now}{peak_rss_mib():,.0f} MiB peak"


def duration(seconds: float) -> str:
    """A duration a person reads at a glance: 12.3 s, 4 min 05 s, 2 h 03 min, 3 d 04 h."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    return f"{int(seconds // 86400)} d {int(seconds % 86400 // 3600):02d} h"


class Counting(httpx.AsyncBaseTransport):
    """An httpx transport that counts the bytes of each request on the way out (line, headers, body)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.bytes = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        head = sum(len(k) + len(v) + 4 for k, v in request.headers.raw) + len(request.url.raw_path) + 16
        self.bytes += len(body) + head
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
