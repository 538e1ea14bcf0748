"""Normalising a batch of raw platform records without letting one bad record stop the rest.

Every source turns raw payloads into canonical records with a pure ``normalize(raw, shop)``
function that raises :class:`~connector.errors.RecordError` for a record it cannot use. This
module runs such a function over a batch: good records go on, bad ones become
:class:`~connector.protocols.QuarantineEntry` rows carrying the raw JSON (wire names), so nothing
is lost and a fixed record can be replayed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TypeVar

from pydantic import BaseModel

from connector.errors import RecordError
from connector.models import Cart, Customer, Order
from connector.protocols import QuarantineEntry

__all__ = ["normalize_batch", "raw_payload"]

RawT = TypeVar("RawT", bound=BaseModel)
RecordT = TypeVar("RecordT", Customer, Order, Cart)


def normalize_batch(
    raws: Iterable[RawT], normalize: Callable[[RawT, str], RecordT], shop: str
) -> tuple[list[RecordT], list[QuarantineEntry]]:
    """Normalise a batch: good records, and quarantine entries for bad ones and dropped fields.

    A record that fails is quarantined whole with its raw JSON as payload; a record that lost a
    field (an unusable phone) is kept and the dropped field is reported as ``field_dropped``.
    """
    records: list[RecordT] = []
    quarantined: list[QuarantineEntry] = []
    for raw in raws:
        try:
            record = normalize(raw, shop)
        except RecordError as error:
            quarantined.append(QuarantineEntry.from_error(error, payload=raw_payload(raw)))
            continue
        records.append(record)
        if isinstance(record, Customer):
            quarantined.extend(QuarantineEntry.from_issue("customer", record.id, issue) for issue in record.issues)
    return records, quarantined


def raw_payload(raw: BaseModel) -> str:
    """The raw record as the platform sent it (wire names, compact JSON), for replaying it later."""
    return json.dumps(raw.model_dump(mode="json", by_alias=True), separators=(",", ":"), ensure_ascii=False)
