"""What a profile becomes in an email platform: managed lists, tags and custom fields (``[outputs]``).

Following the ESPs' own advice (see DOMAIN.md): one main marketing list refined with tags and
fields, plus a Prospects and a Customers list a person moves between on their first purchase.

=====================  ==========================================================================
output                 default
=====================  ==========================================================================
lists                  ``Newsletter`` (every subscriber), ``Prospects`` (subscribed, never ordered),
                       ``Customers`` (subscribed, ordered): all marketing lists, so consent-guarded
segment tags           ``Segment – <title>`` for each segment the person is in
status tag             ``Status – <stage>``: exactly one, the lifecycle stage (the old one removed)
product tags           ``Product – <category>`` per category bought
source tags            ``Source – <shop>`` per shop the person is known in
transition tags        ``Trigger – Entered <title>`` for ``transition_days`` after entering one of
                       the ``transitions`` segments (off unless segments are named)
custom fields          total spent, orders, AOV, first/last order date, RFM score and group,
                       lifecycle stage, favourite category, birthday, city, country, cart value and
                       recovery URL; any catalog field or ``attributes.<name>`` can be added
native properties      first and last name, phone (E.164)
=====================  ==========================================================================

A segment may also put its members on lists of its own (``lists = ["VIP"]`` in its table).
Only these managed outputs are ever in a contact state, so what a marketer adds by hand in the
ESP is never removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connector.segments.catalog import LIFECYCLE_STAGES, RFM_GROUPS, Catalog, FieldType
from connector.segments.library import DEFAULT_SEPARATOR, tag_name

__all__ = ["DEFAULT_FIELDS", "FieldOutput", "OutputSettings", "stage_title"]

FieldKind = Literal["text", "number", "date", "dropdown", "multiselect"]

_STAGE_TITLES = {"prospect": "Prospect", "new": "New customer", "active": "Active customer",
                 "at_risk": "At risk", "inactive": "Inactive", "lapsed": "Lapsed"}


def stage_title(stage: str) -> str:
    """How a lifecycle stage reads in a tag or a dropdown: ``at_risk`` -> ``At risk``."""
    return _STAGE_TITLES.get(stage, stage.replace("_", " ").capitalize())


class FieldOutput(BaseModel):
    """One managed custom field: which profile value it holds, and its type in the ESP."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(min_length=1, description="a catalog field (total_spent) or attributes.<name>")
    type: FieldKind | None = Field(default=None, description="default: from the catalog field's type")
    options: tuple[str, ...] = Field(default=(), description="the choices of a dropdown or multiselect")


DEFAULT_FIELDS: dict[str, FieldOutput] = {
    "Total spent": FieldOutput(source="total_spent"),
    "Orders count": FieldOutput(source="orders_count"),
    "Average order value": FieldOutput(source="average_order_value"),
    "First order date": FieldOutput(source="first_order_date"),
    "Last order date": FieldOutput(source="last_order_date"),
    "RFM score": FieldOutput(source="rfm_score"),
    "RFM group": FieldOutput(source="rfm_group"),
    "Lifecycle stage": FieldOutput(source="lifecycle"),
    "Favourite category": FieldOutput(source="favourite_category"),
    "Birthday": FieldOutput(source="birthday"),
    "City": FieldOutput(source="city"),
    "Country": FieldOutput(source="country"),
    "Cart value": FieldOutput(source="cart_value"),
    "Cart recovery URL": FieldOutput(source="cart_url"),
}

_KIND_OF = {FieldType.TEXT: "text", FieldType.NUMBER: "number", FieldType.INTEGER: "number",
            FieldType.DATE: "date", FieldType.BOOL: "dropdown", FieldType.SET: "multiselect",
            FieldType.ENUM: "dropdown"}


class OutputSettings(BaseModel):
    """The managed lists, tags and fields of one ESP account (``[outputs]``, ``[outputs.sinks.<esp>]``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    main_list: str | None = Field(default="Newsletter", description="every subscribed person; empty: none")
    prospects_list: str | None = Field(default="Prospects", description="subscribed, never ordered")
    customers_list: str | None = Field(default="Customers", description="subscribed, ordered at least once")
    segment_tags: bool = True
    segment_tag_category: str = "Segment"
    status_tags: bool = True
    status_tag_category: str = "Status"
    product_tags: bool = True
    product_tag_category: str = "Product"
    source_tags: bool = True
    source_tag_category: str = "Source"
    transitions: tuple[str, ...] = Field(default=(), description="segments whose entry gets a Trigger tag")
    transition_days: int = Field(default=7, ge=1, le=365, description="days the Trigger tag stays on")
    transition_tag_category: str = "Trigger"
    separator: str = DEFAULT_SEPARATOR
    names: bool = Field(default=True, description="push first and last name")
    phone: bool = Field(default=True, description="push the phone number (E.164)")
    fields: Mapping[str, FieldOutput] = Field(default_factory=lambda: dict(DEFAULT_FIELDS))

    @field_validator("main_list", "prospects_list", "customers_list")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    def tag(self, category: str, name: str) -> str:
        return tag_name(category, name, self.separator)

    def list_names(self, segment_lists: Iterable[str] = ()) -> frozenset[str]:
        """Every list this output manages: the three standard ones that are on, and segments' own."""
        standard = {self.main_list, self.prospects_list, self.customers_list}
        return frozenset(name for name in (*standard, *segment_lists) if name)

    def field_types(self, catalog: Catalog) -> dict[str, tuple[str, tuple[str, ...]]]:
        """``{field name: (ESP type, options)}``, each type checked against the catalog.

        Raises:
            ValueError: a field names a source the catalog does not have.
        """
        out: dict[str, tuple[str, tuple[str, ...]]] = {}
        for name, spec in self.fields.items():
            known = catalog.get(spec.source)
            if known is None:
                close = catalog.suggest(spec.source, attributes=spec.source.startswith("attributes."))
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise ValueError(f"field {name!r}: unknown source {spec.source!r}{hint}")
            kind = spec.type or _KIND_OF[known.type]
            options = spec.options
            if not options and kind in ("dropdown", "multiselect"):
                options = _default_options(spec.source, known.type, known.values)
            out[name] = (kind, options)
        return out


def _default_options(source: str, kind: FieldType, values: tuple[str, ...] | None) -> tuple[str, ...]:
    if source == "lifecycle":
        return tuple(stage_title(s) for s in LIFECYCLE_STAGES)
    if source == "rfm_group":
        return RFM_GROUPS
    if kind is FieldType.BOOL:
        return ("Yes", "No")
    return tuple(values or ())
