"""Brevo API v3 payloads the sink reads, as pydantic models that ignore what they do not use."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AttributeInfo",
    "Attributes",
    "Contact",
    "ContactsPage",
    "Created",
    "Folder",
    "FoldersPage",
    "ListInfo",
    "ListsPage",
    "MembershipResult",
    "Process",
    "ProcessAccepted",
]


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Contact(_Raw):
    id: int
    email: str | None = None
    emailBlacklisted: bool = False  # noqa: N815 - Brevo's field names
    modifiedAt: datetime | None = None  # noqa: N815
    listIds: tuple[int, ...] = ()  # noqa: N815
    listUnsubscribed: tuple[int, ...] = ()  # noqa: N815
    attributes: dict[str, Any] = Field(default_factory=dict)


class ContactsPage(_Raw):
    contacts: tuple[Contact, ...] = ()
    count: int = 0


class Folder(_Raw):
    id: int
    name: str


class FoldersPage(_Raw):
    folders: tuple[Folder, ...] = ()
    count: int = 0


class ListInfo(_Raw):
    id: int
    name: str
    folderId: int | None = None  # noqa: N815


class ListsPage(_Raw):
    lists: tuple[ListInfo, ...] = ()
    count: int = 0


class AttributeInfo(_Raw):
    name: str
    category: str
    type: str | None = None
    multiCategoryOptions: tuple[str, ...] = ()  # noqa: N815


class Attributes(_Raw):
    attributes: tuple[AttributeInfo, ...] = ()


class Created(_Raw):
    id: int


class ProcessAccepted(_Raw):
    processId: int  # noqa: N815


class Process(_Raw):
    id: int
    status: str
    name: str = ""


class MembershipResult(_Raw):
    success: tuple[Any, ...] = ()
    failure: tuple[Any, ...] = ()
