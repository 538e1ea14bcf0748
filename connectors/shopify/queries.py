"""The Admin GraphQL documents the Shopify source sends, and what they cost.

Every document is a constant (or built from settings, for customer metafields) and is checked
against the shipped 2025-01 schema and the newest unstable SDL by ``tests/test_shopify_queries.py``.
Selections are deliberately narrow: exactly what :mod:`connectors.shopify.normalize` reads, because
every object costs a point of the shop's rate-limit bucket and validation time per record.

Paginated documents alias their root connection to ``page`` so one envelope model
(:class:`~connectors.shopify.models.PageData`) reads customers, orders and checkouts alike; they
take ``$first: Int!, $after: String, $query: String``. Bulk variants select the same node fields
through ``edges { node }`` with no page arguments (Shopify pages bulk queries itself, and writes
nested connections as separate JSONL lines carrying ``__parentId``).

Money is always read from ``shopMoney``, i.e. in the shop's currency; see ``normalize``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from graphql import FieldNode, InlineFragmentNode, IntValueNode, OperationDefinitionNode, VariableNode, parse
from graphql.language import SelectionSetNode

__all__ = [
    "ABANDONED_CHECKOUTS", "ABANDONED_CHECKOUTS_BULK", "BULK_OPERATION", "BULK_RUN_QUERY", "CHECKOUT_LINE_ITEMS",
    "CURRENT_BULK_OPERATION", "MAX_QUERY_COST", "ORDERS", "ORDERS_BULK", "ORDER_LINE_ITEMS", "SHOP_INFO", "Variables",
    "customer_bulk_query", "customer_query", "estimated_cost", "largest_first", "updated_since_filter",
]

Variables = Mapping[str, str | int | bool | None]

# Shopify refuses a single query whose requested cost exceeds 1,000 points (MAX_COST_EXCEEDED).
MAX_QUERY_COST = 1000
# Line items fetched with each order or checkout page; the rest (rare) come from *_LINE_ITEMS.
NESTED_LINE_ITEMS = 10
# Line items per follow-up page: 3 + 100 x 7 points stays well under MAX_QUERY_COST.
FOLLOW_UP_LINE_ITEMS = 100

_MONEY = "shopMoney { amount currencyCode }"
_PAGE_INFO = "pageInfo { hasNextPage endCursor }"

_CUSTOMER_FIELDS = """
      id
      email
      firstName
      lastName
      phone
      locale
      tags
      createdAt
      updatedAt
      emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }
      defaultAddress { countryCodeV2 provinceCode province city zip company }"""

_ORDER_FIELDS = f"""
      id
      name
      email
      createdAt
      updatedAt
      processedAt
      cancelledAt
      test
      sourceName
      discountCodes
      currencyCode
      displayFinancialStatus
      displayFulfillmentStatus
      customer {{ id }}
      billingAddress {{ countryCodeV2 provinceCode province city zip }}
      subtotalPriceSet {{ {_MONEY} }}
      totalDiscountsSet {{ {_MONEY} }}
      totalShippingPriceSet {{ {_MONEY} }}
      totalTaxSet {{ {_MONEY} }}
      totalPriceSet {{ {_MONEY} }}
      totalRefundedSet {{ {_MONEY} }}"""

_ORDER_LINE_FIELDS = f"""
          id
          title
          sku
          vendor
          quantity
          currentQuantity
          product {{ id productType }}
          variant {{ id }}
          originalUnitPriceSet {{ {_MONEY} }}
          discountedTotalSet {{ {_MONEY} }}"""

_CHECKOUT_FIELDS = f"""
      id
      abandonedCheckoutUrl
      createdAt
      updatedAt
      completedAt
      customer {{ id email }}
      totalPriceSet {{ {_MONEY} }}"""

_CHECKOUT_LINE_FIELDS = f"""
          id
          title
          sku
          quantity
          product {{ id productType vendor }}
          variant {{ id }}
          originalUnitPriceSet {{ {_MONEY} }}
          discountedTotalPriceSet {{ {_MONEY} }}"""


def _paginated(root: str, sort_key: str | None, node_fields: str) -> str:
    sort = f", sortKey: {sort_key}" if sort_key else ""
    return f"""query Page($first: Int!, $after: String, $query: String) {{
  page: {root}(first: $first, after: $after, query: $query{sort}) {{
    {_PAGE_INFO}
    nodes {{{node_fields}
    }}
  }}
}}"""


def _bulk(root: str, node_fields: str) -> str:
    return f"""{{
  {root} {{
    edges {{
      node {{{node_fields}
      }}
    }}
  }}
}}"""


def _line_items(fields: str, *, first: int | None, bulk: bool) -> str:
    if bulk:  # no page arguments: the bulk export returns every line, one JSONL line each
        return f"""
      lineItems {{
        edges {{
          node {{{fields}
          }}
        }}
      }}"""
    return f"""
      lineItems(first: {first}) {{
        {_PAGE_INFO}
        nodes {{{fields}
        }}
      }}"""


def _metafields(keys: Sequence[str]) -> str:
    # One aliased ``metafield(namespace:, key:)`` per configured key: a plain object field (1 point,
    # no connection), so it also works inside bulk queries, whose connections are limited to five.
    # Aliases are positional because keys may contain "-", which a GraphQL name cannot.
    lines = []
    for index, key in enumerate(keys):
        namespace, _, name = key.partition(".")
        arguments = f'namespace: "{namespace}", key: "{name}"'
        lines.append(f"\n      metafield{index}: metafield({arguments}) {{ namespace key type value }}")
    return "".join(lines)


def customer_query(metafields: Sequence[str] = ()) -> str:
    """The paginated customers document, reading the given ``namespace.key`` metafields too.

    Keys are validated by :class:`~connectors.shopify.settings.ShopifySettings` (letters, digits,
    ``-`` and ``_``), so they can be written into the document without escaping.
    """
    return _paginated("customers", "UPDATED_AT", _CUSTOMER_FIELDS + _metafields(metafields))


def customer_bulk_query(metafields: Sequence[str] = ()) -> str:
    """The bulk-export query for every customer, with the given metafields."""
    return _bulk("customers", _CUSTOMER_FIELDS + _metafields(metafields))


ORDERS = _paginated(
    "orders", "UPDATED_AT", _ORDER_FIELDS + _line_items(_ORDER_LINE_FIELDS, first=NESTED_LINE_ITEMS, bulk=False)
)
ORDERS_BULK = _bulk("orders", _ORDER_FIELDS + _line_items(_ORDER_LINE_FIELDS, first=None, bulk=True))

# abandonedCheckouts has no UPDATED_AT sort key (2025-01 and unstable): it is filtered by
# updated_at but read in ID order, so the source only advances its cursor once all pages are read.
ABANDONED_CHECKOUTS = _paginated(
    "abandonedCheckouts",
    None,
    _CHECKOUT_FIELDS + _line_items(_CHECKOUT_LINE_FIELDS, first=NESTED_LINE_ITEMS, bulk=False),
)
ABANDONED_CHECKOUTS_BULK = _bulk(
    "abandonedCheckouts", _CHECKOUT_FIELDS + _line_items(_CHECKOUT_LINE_FIELDS, first=None, bulk=True)
)


def _follow_up(type_name: str, fields: str) -> str:
    return f"""query LineItems($id: ID!, $after: String) {{
  owner: node(id: $id) {{
    ... on {type_name} {{
      lineItems(first: {FOLLOW_UP_LINE_ITEMS}, after: $after) {{
        {_PAGE_INFO}
        nodes {{{fields}
        }}
      }}
    }}
  }}
}}"""


# The rest of an order's or checkout's lines when the nested page had more than NESTED_LINE_ITEMS.
ORDER_LINE_ITEMS = _follow_up("Order", _ORDER_LINE_FIELDS)
CHECKOUT_LINE_ITEMS = _follow_up("AbandonedCheckout", _CHECKOUT_LINE_FIELDS)

_BULK_OPERATION_FIELDS = "id status errorCode createdAt completedAt objectCount rootObjectCount url partialDataUrl"

BULK_RUN_QUERY = f"""mutation RunBulkQuery($query: String!) {{
  bulkOperationRunQuery(query: $query) {{
    bulkOperation {{ {_BULK_OPERATION_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}"""

# Polled by id rather than through currentBulkOperation: another process of the same app may have
# started the "current" one, and we must only ever read our own export.
BULK_OPERATION = f"""query BulkOperation($id: ID!) {{
  operation: node(id: $id) {{
    ... on BulkOperation {{ {_BULK_OPERATION_FIELDS} }}
  }}
}}"""

# Used to name the operation in the way when Shopify answers OPERATION_IN_PROGRESS.
CURRENT_BULK_OPERATION = f"""query CurrentBulkOperation {{
  operation: currentBulkOperation(type: QUERY) {{ {_BULK_OPERATION_FIELDS} }}
}}"""

SHOP_INFO = """query ShopInfo {
  shop { name myshopifyDomain currencyCode plan { displayName } }
  currentAppInstallation { accessScopes { handle } }
}"""


def updated_since_filter(timestamp: str) -> str:
    """The search-syntax filter for records updated strictly after ``timestamp`` (ISO 8601 UTC)."""
    return f"updated_at:>'{timestamp}'"


# --------------------------------------------------------------------------- cost estimate


def estimated_cost(document: str, variables: Variables | None = None) -> int:
    """The requested cost Shopify will compute for ``document``, by its published rules.

    Objects cost 1, scalars and enums 0, a connection 2 + ``first`` x (1 + the cost of what each
    node selects), a mutation 10; ``pageInfo`` is part of the connection's 2. Schema-free: every
    field with a sub-selection counts as an object, which holds for our documents (no interfaces or
    lists of objects). Used until a response tells the document's real ``requestedQueryCost``.
    """
    operation = next(d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode))
    if operation.operation.value == "mutation":
        return 10
    return _selection_cost(operation.selection_set, variables or {})


def largest_first(document: str, wanted: int, variables: Variables | None = None, budget: int = MAX_QUERY_COST) -> int:
    """The largest ``$first`` up to ``wanted`` whose estimated cost stays within ``budget``."""
    base = dict(variables or {})
    one = estimated_cost(document, {**base, "first": 1})
    per_node = max(1, estimated_cost(document, {**base, "first": 2}) - one)
    fitting = 1 + (budget - one) // per_node
    return max(1, min(wanted, fitting))


def _selection_cost(selection_set: SelectionSetNode | None, variables: Variables) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, InlineFragmentNode):
            total += _selection_cost(selection.selection_set, variables)
        elif isinstance(selection, FieldNode) and selection.selection_set is not None:
            total += _field_cost(selection, variables)
    return total


def _field_cost(node: FieldNode, variables: Variables) -> int:
    children = {s.name.value: s for s in node.selection_set.selections if isinstance(s, FieldNode)}  # type: ignore[union-attr]
    if "nodes" in children or "edges" in children:
        size = _first(node, variables)
        inner = children.get("nodes") or children["edges"]
        if inner.name.value == "edges":
            edge_children = {s.name.value: s for s in inner.selection_set.selections if isinstance(s, FieldNode)}  # type: ignore[union-attr]
            inner = edge_children["node"]
        return 2 + size * (1 + _selection_cost(inner.selection_set, variables))
    return 1 + _selection_cost(node.selection_set, variables)


def _first(node: FieldNode, variables: Variables) -> int:
    for argument in node.arguments:
        if argument.name.value in ("first", "last"):
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                given = variables.get(value.name.value)
                return int(given) if isinstance(given, int) else 0
    # A connection without first/last (bulk queries only) is not cost-limited; count one node.
    return 1
