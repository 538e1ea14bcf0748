"""Raw Shopify Admin GraphQL payloads, as pydantic models (``extra="ignore"``).

These mirror the selections in :mod:`connectors.shopify.queries` and nothing more. They are
lenient on purpose: every field is optional, timestamps and money stay strings (Shopify's
``DateTime`` and ``Decimal`` scalars are JSON strings), so a record with missing or odd values
reaches :mod:`connectors.shopify.normalize`, which quarantines it with a reason instead of
failing a whole page. A payload that breaks the schema's *types* (an object where a list belongs)
is a contract change and does fail the page, loudly.

Pages are parsed straight from the response bytes with ``TypeAdapter(...).validate_json`` (see
``performance-notes.md`` section 5: the fastest validated path).
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "BulkOperation", "BulkOperationData", "BulkRunData", "Connection", "Envelope", "GraphQLError", "LineItemsData",
    "MoneyBag", "MoneyV2", "PageData", "PageInfo", "QueryCost", "ShopInfoData", "ShopifyAbandonedCheckout",
    "ShopifyAddress", "ShopifyCheckoutLineItem", "ShopifyCustomer", "ShopifyLineItem", "ShopifyMetafield",
    "ShopifyOrder", "ThrottleStatus", "UserError",
]

NodeT = TypeVar("NodeT")
DataT = TypeVar("DataT")


class _Raw(BaseModel):
    # camelCase on the wire, snake_case in Python; numbers accepted where strings are expected.
    model_config = ConfigDict(
        extra="ignore", alias_generator=to_camel, populate_by_name=True, coerce_numbers_to_str=True
    )


# --------------------------------------------------------------------------- envelope


class ThrottleStatus(_Raw):
    """The shop's cost bucket after the query: points left, bucket size, points restored a second."""

    maximum_available: float
    currently_available: float
    restore_rate: float


class QueryCost(_Raw):
    """``extensions.cost``: what the query was charged up front (requested) and in the end (actual)."""

    requested_query_cost: float | None = None
    actual_query_cost: float | None = None
    throttle_status: ThrottleStatus | None = None


class Extensions(_Raw):
    cost: QueryCost | None = None


class ErrorExtensions(_Raw):
    code: str | None = None
    # ACCESS_DENIED errors name the scope they needed, when Shopify says it.
    required_access: str | None = None


class GraphQLError(_Raw):
    """One entry of the top-level ``errors`` list."""

    message: str = ""
    extensions: ErrorExtensions | None = None

    @property
    def code(self) -> str | None:
        return self.extensions.code if self.extensions else None


class Envelope(_Raw, Generic[DataT]):
    """A GraphQL response: ``data`` (``None`` when the query failed as a whole), errors and cost."""

    data: DataT | None = None
    errors: list[GraphQLError] = Field(default_factory=list)
    extensions: Extensions | None = None


class PageInfo(_Raw):
    has_next_page: bool = False
    end_cursor: str | None = None


class Connection(_Raw, Generic[NodeT]):
    """A Relay connection read through ``nodes`` (bulk output is reassembled into the same shape)."""

    page_info: PageInfo = Field(default_factory=PageInfo)
    nodes: list[NodeT] = Field(default_factory=list)


class PageData(_Raw, Generic[NodeT]):
    """``data`` of a paginated document: the root connection is aliased to ``page``."""

    page: Connection[NodeT]


# --------------------------------------------------------------------------- shared shapes


class MoneyV2(_Raw):
    amount: str | None = None  # Shopify's Decimal scalar is a string: kept exact, never a float
    currency_code: str | None = None


class MoneyBag(_Raw):
    shop_money: MoneyV2 | None = None


class ShopifyAddress(_Raw):
    country_code_v2: str | None = None
    province_code: str | None = None
    province: str | None = None
    city: str | None = None
    zip: str | None = None
    company: str | None = None


class _Ref(_Raw):
    id: str | None = None


class ShopifyProduct(_Raw):
    id: str | None = None
    product_type: str | None = None
    vendor: str | None = None


# --------------------------------------------------------------------------- customers


class ShopifyConsent(_Raw):
    marketing_state: str | None = None
    marketing_opt_in_level: str | None = None
    consent_updated_at: str | None = None


class ShopifyMetafield(_Raw):
    namespace: str | None = None
    key: str | None = None
    type: str | None = None
    value: str | None = None


class ShopifyCustomer(_Raw):
    """A customer node; configured metafields arrive as aliases ``metafield0``, ``metafield1``, ..."""

    model_config = ConfigDict(extra="allow")  # keeps the positional metafield aliases

    id: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    locale: str | None = None
    tags: list[str] | None = None
    created_at: str | None = None
    updated_at: str | None = None
    email_marketing_consent: ShopifyConsent | None = None
    default_address: ShopifyAddress | None = None

    @property
    def metafields(self) -> list[ShopifyMetafield]:
        """The configured metafields this customer has (absent ones are ``null`` and skipped)."""
        extra = self.__pydantic_extra__ or {}
        found = []
        for name, value in extra.items():
            if name.startswith("metafield") and isinstance(value, dict):
                found.append(ShopifyMetafield.model_validate(value))
        return found


# --------------------------------------------------------------------------- orders


class _Line(_Raw):
    """What order lines and checkout lines share, under the same Python names."""

    id: str | None = None
    title: str | None = None
    sku: str | None = None
    quantity: int | None = None
    product: ShopifyProduct | None = None
    variant: _Ref | None = None
    original_unit_price_set: MoneyBag | None = None
    vendor: str | None = None
    current_quantity: int | None = None
    discounted_total_set: MoneyBag | None = None


class ShopifyLineItem(_Line):
    """An order's ``LineItem``."""


class ShopifyOrder(_Raw):
    id: str | None = None
    name: str | None = None
    email: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    processed_at: str | None = None
    cancelled_at: str | None = None
    test: bool = False
    source_name: str | None = None
    discount_codes: list[str] | None = None
    currency_code: str | None = None
    display_financial_status: str | None = None
    display_fulfillment_status: str | None = None
    customer: _Ref | None = None
    billing_address: ShopifyAddress | None = None
    subtotal_price_set: MoneyBag | None = None
    total_discounts_set: MoneyBag | None = None
    total_shipping_price_set: MoneyBag | None = None
    total_tax_set: MoneyBag | None = None
    total_price_set: MoneyBag | None = None
    total_refunded_set: MoneyBag | None = None
    line_items: Connection[ShopifyLineItem] = Field(default_factory=Connection[ShopifyLineItem])


# --------------------------------------------------------------------------- carts


class ShopifyCheckoutCustomer(_Raw):
    id: str | None = None
    email: str | None = None


class ShopifyCheckoutLineItem(_Line):
    """An ``AbandonedCheckoutLineItem``: no vendor or current quantity; its total has another name."""

    discounted_total_set: MoneyBag | None = Field(default=None, alias="discountedTotalPriceSet")


class ShopifyAbandonedCheckout(_Raw):
    id: str | None = None
    abandoned_checkout_url: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    completed_at: str | None = None
    customer: ShopifyCheckoutCustomer | None = None
    total_price_set: MoneyBag | None = None
    line_items: Connection[ShopifyCheckoutLineItem] = Field(default_factory=Connection[ShopifyCheckoutLineItem])


class LineItemsOwner(_Raw, Generic[NodeT]):
    line_items: Connection[NodeT] | None = None


class LineItemsData(_Raw, Generic[NodeT]):
    """``data`` of a follow-up line-items document (``owner: node(id:)``)."""

    owner: LineItemsOwner[NodeT] | None = None


# --------------------------------------------------------------------------- bulk operations and shop


class BulkOperation(_Raw):
    """A bulk operation's state, as polled."""

    id: str
    status: str
    error_code: str | None = None
    created_at: str | None = None
    completed_at: str | None = None
    object_count: str | None = None  # UnsignedInt64: a string on the wire
    root_object_count: str | None = None
    url: str | None = None
    partial_data_url: str | None = None


class UserError(_Raw):
    field: list[str] | None = None
    message: str = ""
    code: str | None = None


class BulkRunPayload(_Raw):
    bulk_operation: BulkOperation | None = None
    user_errors: list[UserError] = Field(default_factory=list)


class BulkRunData(_Raw):
    bulk_operation_run_query: BulkRunPayload | None = None


class BulkOperationData(_Raw):
    operation: BulkOperation | None = None


class ShopPlan(_Raw):
    display_name: str | None = None


class Shop(_Raw):
    name: str | None = None
    myshopify_domain: str | None = None
    currency_code: str | None = None
    plan: ShopPlan | None = None


class AccessScope(_Raw):
    handle: str


class AppInstallation(_Raw):
    access_scopes: list[AccessScope] = Field(default_factory=list)


class ShopInfoData(_Raw):
    shop: Shop | None = None
    current_app_installation: AppInstallation | None = None
