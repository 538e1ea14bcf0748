"""Raw ActiveCampaign API v3 payloads, as pydantic models (``extra="ignore"``).

Only what the client and sink read is modelled. ActiveCampaign sends ids and most numbers as
JSON strings (``"id": "12"``); the models read them as ints. :func:`parse` validates a body and
names the endpoint in the error when it does not fit.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = [
    "AcBulkImportQueued",
    "AcContactRow",
    "AcContactTagRow",
    "AcFieldOptionRow",
    "AcFieldRelRow",
    "AcFieldRow",
    "AcImportInfo",
    "AcListRow",
    "AcTagRow",
    "parse",
]

ModelT = TypeVar("ModelT", bound=BaseModel)


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, populate_by_name=True)


class AcContactRow(_Raw):
    id: int
    email: str
    udate: str | None = None


class AcListRow(_Raw):
    id: int
    name: str
    stringid: str = ""


class AcTagRow(_Raw):
    id: int
    tag: str


class AcFieldRow(_Raw):
    id: int
    title: str
    type: str = ""


class AcFieldOptionRow(_Raw):
    id: int
    field: int
    value: str


class AcFieldRelRow(_Raw):
    id: int
    field: int
    relid: int


class AcContactTagRow(_Raw):
    id: int
    contact: int
    tag: int


class AcBulkImportQueued(_Raw):
    batchId: str  # noqa: N815 - ActiveCampaign's name
    queued_contacts: int = 0


class AcImportInfo(_Raw):
    status: str
    success: list[str] = []
    failure: list[str] = []


def parse(model: type[ModelT], data: Any, where: str) -> ModelT:
    """``data`` as a ``model``.

    Raises:
        ValueError: it does not fit; the message names ``where`` and the first offending field.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(p) for p in first.get("loc", ())) or "(root)"
        raise ValueError(f"{where}: unexpected {model.__name__} ({place}: {first.get('msg')})") from None
