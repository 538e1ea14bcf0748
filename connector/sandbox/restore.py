"""The shop behind a shop sandbox: the one its state file describes, else a newly generated one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connector.sandbox.shop import ShopState

__all__ = ["restore_shop"]


def restore_shop(saved: Mapping[str, Any] | None, *, customers: int, seed: int, name: str = "sandbox") -> ShopState:
    """The shop saved in ``saved["shop"]`` (a generated shop's spec and changes, or a memory shop),
    else a generated shop of ``customers`` customers from ``seed``.

    Raises:
        ValueError: the saved shop has an unknown dump format.
    """
    dump = (saved or {}).get("shop")
    if dump and dump.get("memory"):
        from connector.sandbox.memory import MemoryShop

        return MemoryShop.load(dump)
    from connector.sandbox.datagen import GeneratedShop, ShopSpec  # heavy: only when a shop is generated

    if dump:
        return GeneratedShop.load(dump)
    return GeneratedShop(ShopSpec(name=name, seed=seed, customers=customers))
