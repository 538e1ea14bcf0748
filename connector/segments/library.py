"""The built-in segment library: the segments every marketing guide recommends, one line of config each.

Each built-in is an ordinary rule in the segment language (so it is explained, compiled and tested
like a marketer's own), with its thresholds taken from :class:`LibrarySettings`, and the tag it
maps to (``Segment – <Title>`` by default; the separator is configurable). "Bought category X"
is not one segment but one tag per category (``Product – <category>``), produced from the
``categories`` set rather than from a rule.

============================  ==========================================================  ========
segment                       rule (defaults)                                             default
============================  ==========================================================  ========
abandoned_cart                ``has_open_cart``                                           on
inactive_6_months             ``orders_count >= 1 and days_since_last_order >= 180``      on
inactive_12_months            ``orders_count >= 1 and days_since_last_order >= 365``      on
best_customers                ``rfm_group == "Champions"``, or ``spend_percentile >= 90``  on
                              (top 10 % by spend: ``best_customers = "top_10_percent"``)
loyal                         ``orders_count >= 3``                                       on
new_customers                 ``lifecycle == "new"``                                      on
subscribers_never_ordered     ``consent == "subscribed" and orders_count == 0``           on
one_time_buyers               ``orders_count == 1``                                       on
high_aov                      ``average_order_value >= 150``                              off
birthday_this_month           ``birthday_month == this_month``                            on
b2b                           ``is_b2b``                                                  on
discount_seekers              ``discount_orders >= 2``                                    on
unsubscribed                  ``consent == "unsubscribed"`` (kept out of campaigns,        on
                              never deleted)
local_<name>                  ``country == "FR" and starts_with(postal_code, "75")`` …    per area
============================  ==========================================================  ========
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connector.segments.catalog import Catalog, default_catalog
from connector.segments.nodes import Rule
from connector.segments.rules import parse_rule

__all__ = ["BuiltinSegment", "LibrarySettings", "LocalArea", "builtin_segments", "tag_name"]

DEFAULT_SEPARATOR = " – "


def tag_name(category: str, name: str, separator: str = DEFAULT_SEPARATOR) -> str:
    """A tag named ``Category – Name``, the convention that keeps a tag's purpose visible.

    Raises:
        ValueError: an empty category or name.
    """
    category, name = category.strip(), name.strip()
    if not category or not name:
        raise ValueError("a tag needs a category and a name, e.g. 'Segment' and 'VIP'")
    return f"{category}{separator}{name}"


class LocalArea(BaseModel):
    """An area "near our store": a country, and optionally a region, a city or postal-code prefixes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="e.g. paris: the segment is local_paris")
    title: str = Field(min_length=1, description="the tag's name, e.g. Paris")
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO country code, e.g. FR")
    region: str | None = None
    city: str | None = None
    postal_prefixes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _prefixes(self) -> LocalArea:
        if any(not p.strip() or '"' in p for p in self.postal_prefixes):
            raise ValueError("postal prefixes must be non-empty and contain no quotes")
        return self


class LibrarySettings(BaseModel):
    """Which built-in segments are on, and their thresholds (config: ``[library]`` in segments.toml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    abandoned_cart: bool = True
    inactive_6_months: bool = True
    inactive_12_months: bool = True
    best_customers: Literal["top_10_percent", "champions", "off"] = "champions"
    loyal: bool = True
    loyal_min_orders: int = Field(default=3, ge=2)
    new_customers: bool = True
    subscribers_never_ordered: bool = True
    one_time_buyers: bool = True
    high_aov: bool = False
    high_aov_min: Decimal = Field(default=Decimal(150), gt=0, decimal_places=4)
    birthday_this_month: bool = True
    b2b: bool = True
    discount_seekers: bool = True
    discount_min_orders: int = Field(default=2, ge=1)
    unsubscribed: bool = True
    categories: bool = Field(default=True, description="one 'Product – <category>' tag per category bought")
    local_areas: tuple[LocalArea, ...] = ()
    tag_category: str = "Segment"
    separator: str = DEFAULT_SEPARATOR


class BuiltinSegment(BaseModel):
    """One built-in segment: its name, its checked rule and the tag it maps to."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str
    title: str
    rule: Rule
    tag: str


def _local_rule(area: LocalArea) -> str:
    parts = [f'country == "{area.country}"']
    if area.region:
        parts.append(f'region == "{area.region}"')
    if area.city:
        parts.append(f'lower(city) == "{area.city.lower()}"')
    if area.postal_prefixes:
        alternatives = " or ".join(f'starts_with(postal_code, "{p.strip()}")' for p in area.postal_prefixes)
        parts.append(f"({alternatives})" if len(area.postal_prefixes) > 1 else alternatives)
    return " and ".join(parts)


def _definitions(settings: LibrarySettings) -> list[tuple[str, str, str]]:
    """(name, title, rule text) of every built-in that is on."""
    on: list[tuple[str, str, str]] = []
    if settings.abandoned_cart:
        on.append(("abandoned_cart", "Abandoned cart", "has_open_cart"))
    if settings.inactive_6_months:
        on.append(("inactive_6_months", "Inactive 6 months", "orders_count >= 1 and days_since_last_order >= 180"))
    if settings.inactive_12_months:
        on.append(("inactive_12_months", "Inactive 12 months",
                   "orders_count >= 1 and days_since_last_order >= 365"))
    if settings.best_customers == "top_10_percent":
        on.append(("best_customers", "Best customers", "spend_percentile >= 90"))
    elif settings.best_customers == "champions":
        on.append(("best_customers", "Best customers", 'rfm_group == "Champions"'))
    if settings.loyal:
        on.append(("loyal", "Loyal", f"orders_count >= {settings.loyal_min_orders}"))
    if settings.new_customers:
        on.append(("new_customers", "New customer", 'lifecycle == "new"'))
    if settings.subscribers_never_ordered:
        on.append(("subscribers_never_ordered", "Subscriber, never ordered",
                   'consent == "subscribed" and orders_count == 0'))
    if settings.one_time_buyers:
        on.append(("one_time_buyers", "One-time buyer", "orders_count == 1"))
    if settings.high_aov:
        on.append(("high_aov", "High basket", f"average_order_value >= {settings.high_aov_min}"))
    if settings.birthday_this_month:
        on.append(("birthday_this_month", "Birthday this month", "birthday_month == this_month"))
    if settings.b2b:
        on.append(("b2b", "B2B", "is_b2b"))
    if settings.discount_seekers:
        on.append(("discount_seekers", "Discount seeker", f"discount_orders >= {settings.discount_min_orders}"))
    if settings.unsubscribed:
        on.append(("unsubscribed", "Unsubscribed", 'consent == "unsubscribed"'))
    on.extend((f"local_{area.name}", area.title, _local_rule(area)) for area in settings.local_areas)
    return on


def builtin_segments(settings: LibrarySettings | None = None, catalog: Catalog | None = None) -> list[BuiltinSegment]:
    """The built-in segments that ``settings`` turns on, their rules checked against ``catalog``.

    Raises:
        RuleError: a built-in rule does not fit the catalog (a field missing from a custom catalog).
    """
    settings = settings or LibrarySettings()
    catalog = catalog or default_catalog()
    return [
        BuiltinSegment(name=name, title=title, rule=parse_rule(text, catalog, segment=name),
                       tag=tag_name(settings.tag_category, title, settings.separator))
        for name, title, text in _definitions(settings)
    ]
