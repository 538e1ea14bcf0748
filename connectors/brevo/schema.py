"""What the sink provisions in Brevo, and what it knows of the account's folders, lists and attributes.

:func:`load_schema` reads the account (3+ requests); :func:`ensure_schema` creates what a
:class:`~connector.protocols.SchemaSpec` needs and is missing: the folder, the managed lists in it,
an attribute per managed field, the tags attribute, and options missing from a managed
multiple-choice attribute. It never changes or deletes anything else: an attribute of the same name
and another type is a configuration error, not something to convert.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from connector.errors import ConfigError
from connector.protocols import STANDARD_FIELDS, SchemaSpec
from connectors.brevo.client import BrevoClient
from connectors.brevo.models import AttributeInfo
from connectors.brevo.names import ATTRIBUTE_TYPES, attribute_map

__all__ = ["BrevoSchema", "ensure_schema", "load_schema"]

_log = logging.getLogger("connectors.brevo")


@dataclass
class BrevoSchema:
    """The account as far as the sink needs it: our folder, its lists, every attribute."""

    folder_id: int | None
    lists: dict[str, int]  # managed list name -> id (lists in our folder)
    attributes: dict[str, AttributeInfo]
    options: dict[str, set[str]] = field(default_factory=dict)  # multiple-choice attribute -> options

    def list_name(self, list_id: int) -> str | None:
        return next((name for name, i in self.lists.items() if i == list_id), None)


async def load_schema(client: BrevoClient) -> BrevoSchema:
    """Read the folder, its lists and the attributes."""
    folders = await client.folders()
    folder_id = folders.get(client.settings.folder)
    lists = {} if folder_id is None else {
        info.name: info.id for info in (await client.lists()).lists if info.folderId == folder_id
    }
    attributes = {a.name: a for a in (await client.attributes()).attributes}
    options = {a.name: set(a.multiCategoryOptions) for a in attributes.values() if a.type == "multiple-choice"}
    return BrevoSchema(folder_id, lists, attributes, options)


async def ensure_options(client: BrevoClient, schema: BrevoSchema, name: str, wanted: Iterable[str]) -> None:
    """Create multiple-choice attribute ``name`` with ``wanted``, or add the options it lacks."""
    wanted = sorted(set(wanted))
    if name not in schema.attributes:
        if not wanted:
            return  # Brevo needs at least one option; created with the first tag
        await client.create_attribute(name, "multiple-choice", wanted)
        schema.attributes[name] = AttributeInfo(name=name, category="normal", type="multiple-choice",
                                                multiCategoryOptions=tuple(wanted))
        schema.options[name] = set(wanted)
        return
    missing = [o for o in wanted if o not in schema.options.setdefault(name, set())]
    if missing:
        await client.add_options(name, missing)
        schema.options[name].update(missing)


async def ensure_schema(client: BrevoClient, spec: SchemaSpec) -> BrevoSchema:
    """Provision ``spec``; idempotent. Returns the account's schema afterwards.

    Raises:
        ConfigError: a field type Brevo cannot hold, two fields on one attribute name, or an existing
            attribute of another type than the field's.
    """
    settings = client.settings
    mapping = attribute_map(spec.fields, first_name=settings.first_name_attribute,
                            last_name=settings.last_name_attribute, tags=settings.tags_attribute)
    unknown = {name: kind for name, kind in spec.fields.items() if kind not in ATTRIBUTE_TYPES}
    if unknown:
        raise ConfigError(f"field types Brevo cannot hold: {unknown}; expected one of {sorted(ATTRIBUTE_TYPES)}")
    schema = await load_schema(client)
    if schema.folder_id is None:
        schema.folder_id = await client.create_folder(settings.folder)
        _log.info("brevo %s: created folder %r", client.account, settings.folder)
    for name in sorted(set(spec.lists) | set(settings.tag_lists.values())):
        if name not in schema.lists:
            schema.lists[name] = await client.create_list(name, schema.folder_id)
    for field_name, kind in sorted(spec.fields.items()):
        if field_name in STANDARD_FIELDS and field_name != "first_name" and field_name != "last_name":
            continue  # SMS is built in
        attribute, brevo_type = mapping[field_name], ATTRIBUTE_TYPES[kind]
        if field_name in STANDARD_FIELDS:
            brevo_type = "text"
        existing = schema.attributes.get(attribute)
        if existing is not None and existing.type not in (brevo_type, None):
            raise ConfigError(f"Brevo attribute {attribute} (for field {field_name!r}) exists as {existing.type}, "
                              f"not {brevo_type}; rename the field or the attribute")
        if brevo_type == "multiple-choice":
            await ensure_options(client, schema, attribute, spec.options.get(field_name, ()))
        elif existing is None:
            await client.create_attribute(attribute, brevo_type)
            schema.attributes[attribute] = AttributeInfo(name=attribute, category="normal", type=brevo_type)
    tags = schema.attributes.get(settings.tags_attribute)
    if tags is not None and tags.type not in ("multiple-choice", None):
        raise ConfigError(f"Brevo attribute {settings.tags_attribute} exists as {tags.type}, not multiple-choice; "
                          "set tags_attribute to another name")
    await ensure_options(client, schema, settings.tags_attribute, spec.tags)
    return schema
