"""The field catalog: which names a segment rule may use, and the type of each.

The caller builds the catalog: :func:`default_catalog` holds the built-in profile fields, and
:meth:`Catalog.with_attributes` adds the custom attributes declared in config, which rules
reach as ``attributes.<name>``.

Field types, as a marketer sees them:

=========  ==============================================  ==================================
type       values                                          e.g.
=========  ==============================================  ==================================
text       a string                                        country, city, company
number     a ``Decimal`` (money, averages)                 total_spent, average_order_value
integer    a whole number                                  orders_count, birthday_month
date       a calendar date                                 last_order_date, signup_date
bool       yes or no                                       is_b2b, has_open_cart
set        a set of strings                                categories, products, shop_tags
enum       one string from a fixed list                    consent, lifecycle, rfm_group
=========  ==============================================  ==================================
"""

from __future__ import annotations

import difflib
import keyword
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from connector.errors import ConfigError
from connector.models import ConsentState
from connector.segments import lifecycle, rfm

__all__ = [
    "ATTRIBUTE_PREFIX",
    "CONSENT_STATES",
    "LIFECYCLE_STAGES",
    "RESERVED_NAMES",
    "RFM_GROUPS",
    "Catalog",
    "Field",
    "FieldType",
    "default_catalog",
]

ATTRIBUTE_PREFIX = "attributes."

CONSENT_STATES: tuple[str, ...] = tuple(state.value for state in ConsentState)
LIFECYCLE_STAGES: tuple[str, ...] = lifecycle.STAGES
RFM_GROUPS: tuple[str, ...] = rfm.GROUPS  # the 11 standard RFM groups, as the RFM module names them

# Words of the rule language itself: a field may not take one of these names.
RESERVED_NAMES = frozenset(
    {"attributes", "between", "today", "this_month", "is_empty", "has", "days_ago", "date", "lower"}
    | {"true", "false", "null", "none"}
)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class FieldType(StrEnum):
    """The type of a catalog field; see the module docstring."""

    TEXT = "text"
    NUMBER = "number"
    INTEGER = "integer"
    DATE = "date"
    BOOL = "bool"
    SET = "set"
    ENUM = "enum"


@dataclass(frozen=True)
class Field:
    """One name a rule may use.

    Attributes:
        name: the name in rules: ``total_spent``, or ``attributes.loyalty_tier`` for a custom attribute.
        type: a :class:`FieldType` (a plain string such as ``"number"`` is accepted and converted).
        values: the allowed values of an ``enum`` field, ``None`` for every other type.
        description: one line for documentation and ``explain`` output.
    """

    name: str
    type: FieldType
    values: tuple[str, ...] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        try:
            kind = FieldType(self.type)
        except ValueError:
            allowed = ", ".join(t.value for t in FieldType)
            raise ConfigError(f"field {self.name!r}: unknown type {self.type!r} (expected one of {allowed})") from None
        object.__setattr__(self, "type", kind)
        _check_name(self.name)
        if kind is FieldType.ENUM:
            values = tuple(self.values or ())
            if not values or not all(isinstance(v, str) and v for v in values):
                raise ConfigError(f"field {self.name!r}: an enum needs its allowed values, as non-empty strings")
            if len(set(values)) != len(values):
                raise ConfigError(f"field {self.name!r}: the allowed values repeat themselves")
            object.__setattr__(self, "values", values)
        elif self.values is not None:
            raise ConfigError(f"field {self.name!r}: only an enum field has a list of values")

    @property
    def is_attribute(self) -> bool:
        """Whether this is a custom attribute (``attributes.<name>``)."""
        return self.name.startswith(ATTRIBUTE_PREFIX)

    @property
    def attribute_name(self) -> str:
        """The attribute's own name (``loyalty_tier`` for ``attributes.loyalty_tier``)."""
        return self.name.removeprefix(ATTRIBUTE_PREFIX)


def _check_name(name: str) -> None:
    if not isinstance(name, str):
        raise ConfigError(f"field {name!r}: a name is a string")
    bare = name.removeprefix(ATTRIBUTE_PREFIX)
    what = "custom attribute" if bare != name else "field"
    if not _NAME.fullmatch(bare):
        raise ConfigError(f"{what} {name!r}: a name is letters, digits and _, not starting with a digit")
    if bare.startswith("__") or keyword.iskeyword(bare) or (bare == name and bare.lower() in RESERVED_NAMES):
        raise ConfigError(f"{what} {name!r}: this name is reserved by the rule language; choose another")


@dataclass(frozen=True)
class Catalog:
    """The fields a rule may use, looked up by name.

    Built from any iterable of :class:`Field`; names must be unique.
    """

    fields: tuple[Field, ...]
    _by_name: Mapping[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fields = tuple(self.fields)
        by_name: dict[str, Field] = {}
        for item in fields:
            if not isinstance(item, Field):
                raise ConfigError(f"catalog: expected Field objects, got {type(item).__name__}")
            if item.name in by_name:
                raise ConfigError(f"catalog: field {item.name!r} is declared twice")
            by_name[item.name] = item
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "_by_name", MappingProxyType(by_name))

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def __getitem__(self, name: str) -> Field:
        return self._by_name[name]

    def get(self, name: str) -> Field | None:
        """The field called ``name``, or ``None``."""
        return self._by_name.get(name)

    def suggest(self, name: str, *, attributes: bool = False) -> list[str]:
        """Up to three known names close to ``name``: profile fields, or custom attributes."""
        if not attributes:
            return difflib.get_close_matches(name, [f.name for f in self.fields if not f.is_attribute], n=3)
        pool = [f.attribute_name for f in self.fields if f.is_attribute]
        close = difflib.get_close_matches(name.removeprefix(ATTRIBUTE_PREFIX), pool, n=3)
        return [ATTRIBUTE_PREFIX + bare for bare in close]

    def with_attributes(self, attributes: Mapping[str, str | FieldType | Field]) -> Catalog:
        """A new catalog that also has the custom attributes ``attributes.<name>``.

        Args:
            attributes: attribute name -> its type (``"text"``, ``FieldType.DATE``...), or a
                :class:`Field` whose type, values and description are used (for an enum).

        Raises:
            ConfigError: a bad name or type, or an attribute declared twice.
        """
        extra: list[Field] = []
        for name, spec in attributes.items():
            full = ATTRIBUTE_PREFIX + name
            if isinstance(spec, Field):
                extra.append(Field(full, spec.type, spec.values, spec.description))
            else:
                extra.append(Field(full, spec))  # type: ignore[arg-type]  # converted and checked
        return Catalog((*self.fields, *extra))


def _fields(kind: FieldType, described: Iterable[tuple[str, str]]) -> list[Field]:
    return [Field(name, kind, description=text) for name, text in described]


def default_catalog() -> Catalog:
    """The built-in profile fields (no custom attributes)."""
    text = _fields(
        FieldType.TEXT,
        [
            ("email", "email address"),
            ("first_name", "first name"),
            ("last_name", "last name"),
            ("phone", "phone number"),
            ("country", "ISO country code, e.g. FR"),
            ("region", "region or state"),
            ("city", "city"),
            ("postal_code", "postal code"),
            ("company", "company name (present for B2B customers)"),
            ("favourite_category", "the category bought most often"),
            ("favourite_product_type", "the product type bought most often"),
            ("rfm_score", "RFM score as three digits, e.g. 545"),
            ("cart_url", "recovery link of the open cart"),
        ],
    )
    flags = _fields(
        FieldType.BOOL,
        [
            ("is_b2b", "a business customer"),
            ("is_staff", "a member of the shop's staff"),
            ("has_open_cart", "has an abandoned cart"),
        ],
    )
    enums = [
        Field("consent", FieldType.ENUM, CONSENT_STATES, "email-marketing consent"),
        Field("lifecycle", FieldType.ENUM, LIFECYCLE_STAGES, "lifecycle stage"),
        Field("rfm_group", FieldType.ENUM, RFM_GROUPS, "RFM customer group"),
    ]
    integers = _fields(
        FieldType.INTEGER,
        [
            ("orders_count", "number of orders"),
            ("days_since_last_order", "days since the last order (empty if none)"),
            ("rfm_recency", "RFM recency score, 1 to 5"),
            ("rfm_frequency", "RFM frequency score, 1 to 5"),
            ("rfm_monetary", "RFM monetary score, 1 to 5"),
            ("birthday_month", "month of the birthday, 1 to 12"),
            ("cart_items", "number of items in the open cart"),
            ("discount_orders", "orders placed with a discount code"),
            ("spend_percentile", "per cent of the buyers who spent less, 0 to 99 (top 10%: 90 or more)"),
        ],
    )
    numbers = _fields(
        FieldType.NUMBER,
        [
            ("total_spent", "amount spent over all orders"),
            ("average_order_value", "average amount per order"),
            ("purchase_frequency", "average days between orders"),
            ("cart_value", "value of the open cart"),
        ],
    )
    dates = _fields(
        FieldType.DATE,
        [
            ("first_order_date", "date of the first order"),
            ("last_order_date", "date of the last order"),
            ("signup_date", "date the customer account was created"),
            ("birthday", "date of birth"),
            ("consent_date", "date of the last consent decision"),
            ("cart_abandoned_at", "date the open cart was last touched"),
        ],
    )
    sets = _fields(
        FieldType.SET,
        [
            ("categories", "categories bought"),
            ("product_types", "product types bought"),
            ("products", "products bought"),
            ("shops", "shops the customer is known in"),
            ("shop_tags", "the shop's customer tags"),
            ("discount_codes", "discount codes used"),
            ("channels", "sales channels bought through (web, pos, mobile)"),
        ],
    )
    return Catalog((*text, *flags, *enums, *integers, *numbers, *dates, *sets))
