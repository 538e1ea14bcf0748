"""The Shopify Admin schema the sandbox serves, and how values are written on the wire.

The schema is the real 2025-01 introspection shipped with the package, built once per process.
Shopify's wire formats, which the schema's custom scalars leave to the server:

* ``ID``: ``gid://shopify/<Type>/<number>``;
* ``DateTime``: ISO 8601 in UTC with a ``Z`` and whole seconds (``2025-01-15T09:00:00Z``);
* ``Decimal``/``Money``: a decimal string, at least one fractional digit (``"12.5"``, ``"0.0"``);
* ``UnsignedInt64``: a decimal string (``"42"``), as JSON numbers cannot hold every value.
"""

from __future__ import annotations

import gzip
import json
import logging
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    build_client_schema,
    get_named_type,
)

__all__ = [
    "SCHEMA_VERSION",
    "admin_schema",
    "default_for",
    "gid",
    "is_connection",
    "iso",
    "money",
    "parse_gid",
]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = "2025-01"
_SCHEMA_FILE = f"admin_{SCHEMA_VERSION}.introspection.json.gz"


@cache
def admin_schema() -> GraphQLSchema:
    """The Admin GraphQL schema (about 0.4 s to build, so once per process)."""
    raw = files("connectors.shopify").joinpath("schema", _SCHEMA_FILE).read_bytes()
    introspection = json.loads(gzip.decompress(raw))
    return build_client_schema(introspection.get("data", introspection))


def gid(type_name: str, key: int | str) -> str:
    """The global id of a record: ``gid://shopify/Customer/42``."""
    return f"gid://shopify/{type_name}/{key}"


def parse_gid(value: object) -> tuple[str, int] | None:
    """``(type name, number)`` from a gid, or None when it is not a numeric Shopify gid."""
    if not isinstance(value, str) or not value.startswith("gid://shopify/"):
        return None
    type_name, _, rest = value.removeprefix("gid://shopify/").partition("/")
    number = rest.split("?", 1)[0]
    return (type_name, int(number)) if type_name and number.isdigit() else None


def iso(moment: datetime | date | None) -> str | None:
    """A Shopify ``DateTime``: UTC, whole seconds, ``Z``."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(amount: Decimal | int | float) -> str:
    """A Shopify ``Decimal`` string: no exponent, trailing zeros dropped, at least one decimal."""
    text = format(Decimal(amount).normalize(), "f")
    if "." not in text:
        return f"{text}.0"
    return text


def is_connection(type_: GraphQLNamedType | GraphQLOutputType) -> bool:
    """Whether a type is a Relay connection (``...Connection`` with ``pageInfo``)."""
    named = get_named_type(type_)
    return (
        isinstance(named, GraphQLObjectType)
        and named.name.endswith("Connection")
        and "pageInfo" in named.fields
        and ("edges" in named.fields or "nodes" in named.fields)
    )


# Non-null scalars the sandbox does not model still need a well-formed value.
_SCALAR_DEFAULTS: dict[str, Any] = {
    "String": "",
    "ID": "gid://shopify/Unknown/0",
    "Int": 0,
    "Float": 0.0,
    "Boolean": False,
    "DateTime": "1970-01-01T00:00:00Z",
    "Date": "1970-01-01",
    "Decimal": "0.0",
    "Money": "0.0",
    "UnsignedInt64": "0",
    "URL": "https://shopify.dev/",
    "HTML": "",
    "FormattedString": "",
    "Color": "#000000",
    "JSON": {},
    "UtcOffset": "+00:00",
    "ARN": "arn:aws:events:us-east-1::event-source/aws.partner/shopify.com/0/sandbox",
    "StorefrontID": "gid://shopify/Unknown/0",
    "BigInt": "0",
}


def default_for(type_: GraphQLOutputType, schema: GraphQLSchema, currency: str) -> Any:
    """A value of ``type_`` for a field the sandbox does not model.

    Nullable fields are null. Non-null lists are empty; non-null objects are an empty mapping
    whose own fields then default the same way (a connection comes out empty, a ``MoneyBag``
    as zero in the shop's currency); non-null enums take their first value.
    """
    if not isinstance(type_, GraphQLNonNull):
        return None
    inner = type_.of_type
    if isinstance(inner, GraphQLList):
        return []
    if isinstance(inner, GraphQLScalarType):
        return _SCALAR_DEFAULTS.get(inner.name, "")
    if isinstance(inner, GraphQLEnumType):
        if inner.name == "CurrencyCode" and currency in inner.values:
            return currency
        return next(iter(inner.values))
    if isinstance(inner, GraphQLObjectType):
        return {}
    if isinstance(inner, GraphQLInterfaceType | GraphQLUnionType):
        # Any concrete type will do; the type resolver reads "__typename" from mappings.
        return {"__typename": schema.get_possible_types(inner)[0].name}
    return None
