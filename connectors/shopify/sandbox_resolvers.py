"""One field resolver for the whole schema: scope check, then the type's table, then a default.

The schema comes from introspection, so it carries no resolvers of its own; graphql-core calls
:func:`field_resolver` for every field and :func:`type_resolver` for every interface or union.
A field the sandbox does not model resolves to null when nullable, otherwise to a well-formed
default (see :func:`~connectors.shopify.sandbox_schema.default_for`), logged at DEBUG, so a query
for anything in the schema never crashes. Mutations are the exception: an unmodelled mutation is
refused loudly rather than pretending to have done something.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from graphql import GraphQLAbstractType, GraphQLOutputType, GraphQLResolveInfo

from connector.sandbox.records import Product, ShopCart, ShopCustomer, ShopOrder
from connectors.shopify import sandbox_bulk_api, sandbox_customers, sandbox_orders, sandbox_root
from connectors.shopify.sandbox_bulk import BulkJob
from connectors.shopify.sandbox_context import REQUIRED_SCOPES, Context, Resolver
from connectors.shopify.sandbox_customers import Metafield
from connectors.shopify.sandbox_errors import access_denied
from connectors.shopify.sandbox_orders import CustomerRef, LineView, Variant
from connectors.shopify.sandbox_root import sandbox_unsupported
from connectors.shopify.sandbox_schema import default_for

__all__ = ["field_resolver", "resolve", "type_resolver"]

logger = logging.getLogger(__name__)

_TABLES: Mapping[str, Mapping[str, Resolver]] = MappingProxyType({
    **sandbox_root.RESOLVERS, **sandbox_customers.RESOLVERS, **sandbox_orders.RESOLVERS,
    **sandbox_bulk_api.RESOLVERS,
})
_TYPE_NAMES: Mapping[type, str] = MappingProxyType({
    ShopCustomer: "Customer", CustomerRef: "Customer", ShopOrder: "Order", ShopCart: "AbandonedCheckout",
    BulkJob: "BulkOperation", Product: "Product", Variant: "ProductVariant", Metafield: "Metafield",
})


def resolve(source: Any, ctx: Context, parent: str, name: str, return_type: GraphQLOutputType,
            args: dict[str, Any]) -> Any:
    """The value of field ``name`` of ``source``, an object of type ``parent``."""
    rule = REQUIRED_SCOPES.get((parent, name))
    if rule is not None and not ctx.has_scopes(*rule[0]):
        raise access_denied(name, rule[1])
    table = _TABLES.get(parent)
    resolver = table.get(name) if table is not None else None
    if resolver is not None:
        return resolver(source, ctx, args)
    if isinstance(source, Mapping) and name in source:
        return source[name]
    if parent == "Mutation":
        raise sandbox_unsupported(f"the {name} mutation is not modelled")
    logger.debug("sandbox: %s.%s is not modelled; serving a default", parent, name)
    return default_for(return_type, ctx.schema, ctx.identity.currency)


def field_resolver(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    """Resolve any field of the Admin schema (graphql-core's entry point)."""
    return resolve(source, info.context, info.parent_type.name, info.field_name, info.return_type, args)


def type_resolver(value: Any, _info: GraphQLResolveInfo | None = None,
                  _abstract: GraphQLAbstractType | None = None) -> str | None:
    """The concrete type name of a value returned for an interface or union field."""
    if isinstance(value, Mapping):
        typename = value.get("__typename")
        return typename if isinstance(typename, str) else None
    if isinstance(value, LineView):
        return "AbandonedCheckoutLineItem" if value.cart else "LineItem"
    return _TYPE_NAMES.get(type(value))
