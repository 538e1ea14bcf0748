"""JSON-able encoding of shop records: ISO dates, Decimal as strings, nested records as objects.

Decoding is driven by the record dataclasses' own type hints, so a field added to
:mod:`connector.sandbox.records` round-trips without touching this module.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

__all__ = ["decode", "encode"]

T = TypeVar("T")


def encode(value: Any) -> Any:
    """A JSON-able form of a record (or any value found inside one)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    return value


def decode(cls: type[T], data: Any) -> T:
    """The record of dataclass ``cls`` that :func:`encode` turned into ``data``."""
    return _decode(cls, data)  # type: ignore[no-any-return]


def _decode(tp: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        return _decode(options[0], data) if len(options) == 1 else data
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in data)
        return tuple(_decode(a, v) for a, v in zip(args, data, strict=True))
    if origin is dict:
        _, value_type = get_args(tp)
        return {k: _decode(value_type, v) for k, v in data.items()}
    if origin is Literal:
        return data
    if tp is datetime:
        return datetime.fromisoformat(data)
    if tp is date:
        return date.fromisoformat(data)
    if tp is Decimal:
        return Decimal(data)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return tp(**{name: _decode(hints[name], v) for name, v in data.items()})
    return data
