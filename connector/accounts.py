"""Opening the configured shop and ESP accounts as Sources and Sinks, through the platform registry.

The core knows no platform: each platform's :class:`~connector.platforms.PlatformInfo` names the
class that implements it, built as ``cls(name=..., settings=..., clock=..., transport=...)``.
``transport`` (tests, the demo) sends the account's requests to an in-process sandbox.
"""

from __future__ import annotations

from typing import Any

import httpx

from connector.clock import Clock
from connector.errors import ConfigError
from connector.platforms import AccountSettings, load_platforms
from connector.protocols import Sink, Source

__all__ = ["open_account", "open_sink", "open_source"]


def open_account(name: str, settings: AccountSettings, *, clock: Clock,
                 transport: httpx.AsyncBaseTransport | None = None) -> Any:
    """The Source or Sink of account ``name``.

    Raises:
        ConfigError: the platform is unknown or not implemented in this version.
    """
    info = load_platforms().get(settings.platform)
    if info is None:
        raise ConfigError(f"account {name!r}: unknown platform {settings.platform!r}")
    try:
        factory = info.load_connector()
    except (LookupError, ImportError) as exc:
        raise ConfigError(f"account {name!r}: {exc}") from None
    return factory(name=name, settings=settings, clock=clock, transport=transport)


def open_source(name: str, settings: AccountSettings, *, clock: Clock,
                transport: httpx.AsyncBaseTransport | None = None) -> Source:
    source = open_account(name, settings, clock=clock, transport=transport)
    if not isinstance(source, Source):
        raise ConfigError(f"shop {name!r}: platform {settings.platform!r} is not a shop platform")
    return source


def open_sink(name: str, settings: AccountSettings, *, clock: Clock,
              transport: httpx.AsyncBaseTransport | None = None) -> Sink:
    sink = open_account(name, settings, clock=clock, transport=transport)
    if not isinstance(sink, Sink):
        raise ConfigError(f"ESP account {name!r}: platform {settings.platform!r} is not an email platform")
    return sink
