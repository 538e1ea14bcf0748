"""The registry of platforms, found through the ``connector.platforms`` entry-point group.

The core knows no platform by name. Each connector package declares a :class:`PlatformInfo`
(its name, whether it is a source or a sink, and its settings model) and registers it in
``pyproject.toml``; config validation and, later, the pipeline look platforms up here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import import_module
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["ENTRY_POINT_GROUP", "AccountSettings", "PlatformInfo", "Role", "load_platforms"]

ENTRY_POINT_GROUP = "connector.platforms"


class Role(StrEnum):
    SOURCE = "source"  # a shop we read from
    SINK = "sink"  # an email platform we push to


class AccountSettings(BaseModel):
    """Settings every platform account has. Each platform's settings model extends it.

    Secrets are ``SecretStr``: shown as ``**********`` in reprs, dumps and logs.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    platform: str


@dataclass(frozen=True)
class PlatformInfo:
    """What the core needs to know about a platform without importing its code."""

    name: str
    role: Role
    settings: type[AccountSettings]
    title: str
    # "module:attribute" of the platform's sandbox factory, imported only when a sandbox is wanted
    # (sandboxes pull in server-side dependencies the connector itself does not need).
    sandbox: str | None = None
    # "module:attribute" of the class that implements the Source or Sink Protocol for an account,
    # called as ``factory(name=..., settings=..., clock=..., transport=...)``.
    connector: str | None = None

    def load_connector(self) -> Any:
        """Import and return the Source or Sink class named by ``connector``.

        Raises:
            LookupError: this version has no implementation of the platform yet.
        """
        if not self.connector:
            raise LookupError(f"the {self.title} connector is not implemented in this version")
        module, _, attribute = self.connector.partition(":")
        return getattr(import_module(module), attribute)

    def load_sandbox(self) -> Any:
        """Import and return the sandbox factory named by ``sandbox``.

        Raises:
            LookupError: the platform has no sandbox (yet).
        """
        if not self.sandbox:
            raise LookupError(f"the {self.title} connector has no sandbox in this version")
        module, _, attribute = self.sandbox.partition(":")
        return getattr(import_module(module), attribute)


@cache
def load_platforms() -> Mapping[str, PlatformInfo]:
    """Every installed platform by name (read once per process; the result is read-only)."""
    found: dict[str, PlatformInfo] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        info = ep.load()
        if not isinstance(info, PlatformInfo) or info.name != ep.name:
            raise TypeError(f"entry point {ep.name!r} ({ep.value}) is not a PlatformInfo named {ep.name!r}")
        found[ep.name] = info
    return MappingProxyType(dict(sorted(found.items())))
