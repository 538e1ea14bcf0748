"""A plan's changes as bulk-import contacts, packed into request bodies under both import limits.

One change becomes one contact object of ``POST /import/bulk_import``::

    {"email": ..., "first_name": ..., "tags": ["Segment – VIP"], "fields": [{"id": 3, "value": "||a||b||"}],
     "subscribe": [{"listid": "1"}], "unsubscribe": [{"listid": "2"}], "exclude_automations": true}

* ``first_name``/``last_name``/``phone`` are the reserved fields; ``None`` clears them (``""``);
* custom fields are sent by id: text as is, numbers as plain decimal text, dates ``YYYY-MM-DD``
  (a datetime in a date field as its UTC date), multi-select values as ``||a||b||``, ``None`` as
  ``""`` (cleared);
* ``listid`` is a string, as the OpenAPI document types it (the docs example shows a number;
  ActiveCampaign reads both);
* ``exclude_automations`` sits on each contact, as in the docs example, and only when set.

:class:`Packer` measures each contact's serialised bytes and starts a new body before one would
pass 250 contacts or 399,999 bytes: the body sent is exactly the bytes measured.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from connector.protocols import FIRST_NAME, LAST_NAME, PHONE, FieldValue

__all__ = ["MAX_BODY_BYTES", "MAX_CONTACTS", "Body", "Packer", "encode", "field_text"]

MAX_CONTACTS = 250
MAX_BODY_BYTES = 399_999  # "less than 400K"
_NATIVE = {FIRST_NAME: "first_name", LAST_NAME: "last_name", PHONE: "phone"}
_HEAD, _TAIL = b'{"contacts":[', b"]}"


def field_text(value: FieldValue, kind: str) -> str:
    """A field value as ActiveCampaign stores it (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, tuple):
        return f"||{'||'.join(value)}||" if value else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).date().isoformat() if kind == "date" else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def native_fields(fields: dict[str, FieldValue]) -> dict[str, str]:
    """The reserved fields among ``fields``, under the importer's names."""
    return {_NATIVE[k]: field_text(v, "text") for k, v in fields.items() if k in _NATIVE}


def encode(contact: dict[str, Any]) -> bytes:
    """One contact object, serialised compactly (UTF-8, as sent)."""
    return json.dumps(contact, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class Body:
    """One import request: its bytes and the tags (e.g. person ids) of its contacts, in order."""

    content: bytes
    keys: list[Any]


@dataclass
class Packer:
    """Packs encoded contacts into bodies of at most ``max_contacts`` and ``max_bytes``."""

    max_contacts: int = MAX_CONTACTS
    max_bytes: int = MAX_BODY_BYTES
    _rows: list[bytes] = field(default_factory=list)
    _keys: list[Any] = field(default_factory=list)
    _size: int = len(_HEAD) + len(_TAIL)

    def fits_alone(self, row: bytes) -> bool:
        return len(_HEAD) + len(row) + len(_TAIL) <= self.max_bytes

    def add(self, key: Any, row: bytes) -> Iterator[Body]:
        """Add one contact; yields the full body it did not fit into, if any.

        Raises:
            ValueError: the contact alone is larger than a body may be.
        """
        if not self.fits_alone(row):
            raise ValueError(f"one contact takes {len(row)} bytes, more than an import body may hold")
        extra = len(row) + (1 if self._rows else 0)  # the comma
        if len(self._rows) >= self.max_contacts or self._size + extra > self.max_bytes:
            yield self._take()
            extra = len(row)
        self._rows.append(row)
        self._keys.append(key)
        self._size += extra

    def flush(self) -> Iterator[Body]:
        """The last, partly filled body, if any."""
        if self._rows:
            yield self._take()

    def _take(self) -> Body:
        body = Body(_HEAD + b",".join(self._rows) + _TAIL, self._keys)
        self._rows, self._keys, self._size = [], [], len(_HEAD) + len(_TAIL)
        return body


def split(body: Body, drop: Sequence[int]) -> Body:
    """``body`` without the contacts at indexes ``drop`` (after a 400 naming them)."""
    contacts = json.loads(body.content)["contacts"]
    keep = [i for i in range(len(contacts)) if i not in set(drop)]
    rows = [encode(contacts[i]) for i in keep]
    return Body(_HEAD + b",".join(rows) + _TAIL, [body.keys[i] for i in keep])
