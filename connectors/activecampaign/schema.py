"""Provisioning the managed lists, tags and custom fields, and the name -> id maps the sink works with.

:class:`AccountSchema` reads what the account has (``GET /lists``, ``/tags``, ``/fields`` with
their options and list relations), then creates only what a :class:`SchemaSpec` names and the
account lacks. Names match case-insensitively, as ActiveCampaign refuses duplicates that way. An
object that exists already is adopted as it is and never changed, except that a missing option
of a managed choice field is added; a field that exists with an incompatible type is a
:class:`~connector.errors.ConfigError`, never silently retyped.

Field types (ActiveCampaign has no number type):

=============  ===================  ====================================
SchemaSpec     created as           an existing field adopted when it is
=============  ===================  ====================================
text           text                 text, textarea, hidden
number         text (decimal text)  text, textarea, hidden
date           date                 date, datetime
dropdown       dropdown + options   dropdown, radio
multiselect    listbox + options    listbox, checkbox
=============  ===================  ====================================

A field we create is related to all lists (``fieldRels`` with ``relid`` 0) so it shows on every
contact; an existing one gets that relation only when it has no list relation at all.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TypeVar

from connector.errors import ConfigError
from connector.protocols import SchemaSpec
from connectors.activecampaign.client import ActiveCampaignClient
from connectors.activecampaign.models import (
    AcFieldOptionRow,
    AcFieldRelRow,
    AcFieldRow,
    AcListRow,
    AcTagRow,
    parse,
)

__all__ = ["AC_FIELD_TYPE", "AccountSchema", "ManagedField"]

AC_FIELD_TYPE = {"text": "text", "number": "text", "date": "date", "dropdown": "dropdown", "multiselect": "listbox"}
_ADOPTABLE = {
    "text": {"text", "textarea", "hidden"},
    "number": {"text", "textarea", "hidden"},
    "date": {"date", "datetime"},
    "dropdown": {"dropdown", "radio"},
    "multiselect": {"listbox", "checkbox"},
}
_CHOICES = frozenset({"dropdown", "multiselect"})
RowT = TypeVar("RowT", AcListRow, AcTagRow)


@dataclass
class ManagedField:
    """A managed custom field: its id, our type (``SchemaSpec``'s) and its options' values."""

    id: int
    kind: str
    options: set[str] = field(default_factory=set)
    related: bool = False


def _key(name: str) -> str:
    return name.strip().casefold()


def stringid(name: str) -> str:
    """A list's URL-safe ``stringid`` from its name (``Shop customers`` -> ``shop-customers``)."""
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-") or "list"


@dataclass
class AccountSchema:
    """The account's lists, tags and fields by (case-folded) name, and what the sink manages."""

    lists: dict[str, int] = field(default_factory=dict)
    tags: dict[str, int] = field(default_factory=dict)
    fields: dict[str, ManagedField] = field(default_factory=dict)
    all_fields: dict[str, tuple[int, str]] = field(default_factory=dict)  # name -> (id, ActiveCampaign type)
    spec: SchemaSpec | None = None
    writes: int = 0  # requests that created something, for tests and benches
    _options: dict[int, set[str]] = field(default_factory=dict, repr=False)
    _related: set[int] = field(default_factory=set, repr=False)

    # ------------------------------------------------------------------ lookups
    def list_id(self, name: str) -> int | None:
        return self.lists.get(_key(name))

    def tag_id(self, name: str) -> int | None:
        return self.tags.get(_key(name))

    def managed_field(self, name: str) -> ManagedField | None:
        return self.fields.get(_key(name))

    def managed_list_ids(self) -> dict[int, str]:
        """Managed list id -> the name the spec gives it."""
        if self.spec is None:
            return {}
        return {i: n for n in self.spec.lists if (i := self.list_id(n)) is not None}

    def managed_tag_ids(self) -> dict[int, str]:
        if self.spec is None:
            return {}
        return {i: n for n in self.spec.tags if (i := self.tag_id(n)) is not None}

    # ------------------------------------------------------------------ reading
    async def load(self, client: ActiveCampaignClient) -> None:
        """Read the account's lists, tags and fields (with options and relations)."""
        self.lists = {_key(r.name): r.id async for r in _rows(client, "/lists", "lists", AcListRow)}
        self.tags = {_key(r.tag): r.id async for r in _rows(client, "/tags", "tags", AcTagRow)}
        options: dict[int, set[str]] = {}
        related: set[int] = set()
        fields: list[AcFieldRow] = []
        async for body in client.bodies("/fields", "fields"):  # a page carries its fields' options and relations
            fields += [parse(AcFieldRow, row, "GET /fields") for row in body["fields"]]
            for row in body.get("fieldOptions") or ():
                option = parse(AcFieldOptionRow, row, "GET /fields fieldOptions")
                options.setdefault(option.field, set()).add(option.value)
            related.update(parse(AcFieldRelRow, row, "GET /fields fieldRels").field
                           for row in body.get("fieldRels") or ())
        self.all_fields = {_key(f.title): (f.id, f.type) for f in fields}
        self._options, self._related = options, related

    # ------------------------------------------------------------------ provisioning
    async def ensure(self, client: ActiveCampaignClient, spec: SchemaSpec, settings_sender: tuple[str, str]) -> None:
        """Create what ``spec`` names and the account lacks; adopt what exists.

        Raises:
            ConfigError: a managed field exists with a type that cannot hold the spec's values,
                or the spec's field type is unknown.
        """
        await self.load(client)
        self._check_fields(spec)
        sender_url, reminder = settings_sender
        for name in sorted(spec.lists):
            if self.list_id(name) is None:
                body = {"list": {"name": name, "stringid": stringid(name), "sender_url": sender_url,
                                 "sender_reminder": reminder}}
                _, answer = await client.send("POST", "/lists", body)
                self.lists[_key(name)] = parse(AcListRow, answer.get("list"), "POST /lists").id
                self.writes += 1
        for name in sorted(spec.tags):
            if self.tag_id(name) is None:
                body = {"tag": {"tag": name, "tagType": "contact", "description": "Managed by connector"}}
                _, answer = await client.send("POST", "/tags", body)
                self.tags[_key(name)] = parse(AcTagRow, answer.get("tag"), "POST /tags").id
                self.writes += 1
        for name, kind in sorted(spec.fields.items()):
            await self._ensure_field(client, name, kind)
        await self._ensure_options(client, spec)
        for name in sorted(spec.fields):
            managed = self.fields[_key(name)]
            if not managed.related:
                await client.send("POST", "/fieldRels", {"fieldRel": {"field": managed.id, "relid": 0}})
                managed.related = True
                self.writes += 1
        self.spec = spec

    def adopt(self, spec: SchemaSpec) -> None:
        """Take ``spec`` as what is managed, from what :meth:`load` read, without writing anything.

        Raises:
            ConfigError: as :meth:`ensure`, or something the spec names does not exist yet.
        """
        self._check_fields(spec)
        missing = [f"list {n!r}" for n in sorted(spec.lists) if self.list_id(n) is None]
        missing += [f"field {n!r}" for n in sorted(spec.fields) if _key(n) not in self.all_fields]
        if missing:
            raise ConfigError(f"activecampaign: not provisioned yet: {', '.join(missing)} (run ensure_schema)")
        for name, kind in spec.fields.items():
            field_id, _ = self.all_fields[_key(name)]
            self.fields[_key(name)] = ManagedField(field_id, kind, set(self._options.get(field_id, ())), True)
        self.spec = spec

    def _check_fields(self, spec: SchemaSpec) -> None:
        for name, kind in spec.fields.items():
            if kind not in AC_FIELD_TYPE:
                raise ConfigError(f"activecampaign: field {name!r} has type {kind!r}; expected one of "
                                  f"{', '.join(sorted(AC_FIELD_TYPE))}")
            existing = self.all_fields.get(_key(name))
            if existing is not None and existing[1] not in _ADOPTABLE[kind]:
                raise ConfigError(
                    f"activecampaign: the account already has a field {name!r} of type {existing[1]!r}, which cannot "
                    f"hold {kind} values (expected {' or '.join(sorted(_ADOPTABLE[kind]))}); rename one of them")

    async def _ensure_field(self, client: ActiveCampaignClient, name: str, kind: str) -> None:
        existing = self.all_fields.get(_key(name))
        if existing is not None:
            field_id = existing[0]
            self.fields[_key(name)] = ManagedField(field_id, kind, set(self._options.get(field_id, ())),
                                                   field_id in self._related)
            return
        body = {"field": {"title": name, "type": AC_FIELD_TYPE[kind], "descript": "Managed by connector",
                          "visible": True}}
        _, answer = await client.send("POST", "/fields", body)
        # The reference answers {"field": {...}}; the document's example, a fields listing.
        created = answer.get("field") or next(
            (f for f in answer.get("fields") or () if isinstance(f, dict) and _key(str(f.get("title"))) == _key(name)),
            None)
        row = parse(AcFieldRow, created, "POST /fields")
        self.all_fields[_key(name)] = (row.id, AC_FIELD_TYPE[kind])
        self.fields[_key(name)] = ManagedField(row.id, kind)
        self.writes += 1

    async def _ensure_options(self, client: ActiveCampaignClient, spec: SchemaSpec) -> None:
        """One ``fieldOption/bulk`` request for every missing option of every managed choice field."""
        wanted = []
        for name, kind in sorted(spec.fields.items()):
            if kind not in _CHOICES:
                continue
            managed = self.fields[_key(name)]
            for order, value in enumerate(spec.options.get(name, ()), start=1):
                if value not in managed.options:
                    wanted.append({"field": str(managed.id), "value": value, "label": value, "orderid": order})
                    managed.options.add(value)
        if wanted:
            await client.send("POST", "/fieldOption/bulk", {"fieldOptions": wanted})
            self.writes += 1


async def _rows(client: ActiveCampaignClient, path: str, key: str, model: type[RowT]) -> AsyncIterator[RowT]:
    """Every row of a listing, parsed."""
    async for page in client.pages(path, key):
        for row in page:
            yield parse(model, row, f"GET {path}")
