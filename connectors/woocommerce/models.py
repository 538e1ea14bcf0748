"""Raw WooCommerce REST API v3 payloads (``/wp-json/wc/v3``), as pydantic models (``extra="ignore"``).

Only what :mod:`connectors.woocommerce.normalize` reads is modelled. The models are lenient where
WooCommerce and its plugins vary and strict where we cannot go on without a value:

* ``id`` must be a positive JSON integer: it is the record's key;
* every other field is optional; money and dates stay strings (money is exact ``Decimal`` work for
  the normaliser; ``date_*`` is site-local and ``date_*_gmt`` UTC, both naive ISO strings);
* numbers are accepted where strings are expected (a line's ``price`` is a JSON number, a plugin
  may send a number for a postcode), ``null`` lists are empty, and PHP's ``[]`` for an empty
  object is read as no object;
* ``meta_data`` values are any JSON value: plugins store strings, numbers, objects and arrays.

:func:`parse_page` validates a list page from the response bytes (:func:`parse_items` the same from
decoded JSON). A body that is not a JSON list fails the page; a single element that does not fit its
model is returned as a :class:`~connector.errors.RecordError` with its raw JSON, to be quarantined
while the rest go on.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, StrictInt, TypeAdapter, ValidationError

from connector.errors import RecordError
from connector.models import make_id

__all__ = [
    "PLATFORM", "WooAddress", "WooCouponLine", "WooCustomer", "WooLineItem", "WooMeta", "WooOrder", "WooRefund",
    "parse_items", "parse_page",
]

PLATFORM = "woocommerce"
RawT = TypeVar("RawT", "WooCustomer", "WooOrder")


def _empty_list(value: Any) -> Any:
    return [] if value is None else value


def _no_object(value: Any) -> Any:
    # PHP serialises an empty associative array as ``[]``; read it as "no object".
    return None if value == [] else value


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class WooMeta(_Raw):
    """One ``meta_data`` entry. ``value`` is whatever JSON the plugin stored."""

    id: int | None = None
    key: str | None = None
    value: JsonValue = None


MetaList = Annotated[list[WooMeta], BeforeValidator(_empty_list)]


class WooAddress(_Raw):
    """``billing`` or ``shipping`` (shipping has no email)."""

    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    address_1: str | None = None
    address_2: str | None = None
    city: str | None = None
    state: str | None = None
    postcode: str | None = None
    country: str | None = None
    email: str | None = None
    phone: str | None = None


OptionalAddress = Annotated[WooAddress | None, BeforeValidator(_no_object)]


class WooLineItem(_Raw):
    """A line of ``line_items``: ``subtotal`` before discounts, ``total`` after, both without tax."""

    id: int | None = None
    name: str | None = None
    product_id: int | None = None
    variation_id: int | None = None
    quantity: int | None = None
    sku: str | None = None
    subtotal: str | None = None
    total: str | None = None
    price: str | None = None  # a JSON number on the wire, informative only
    meta_data: MetaList = Field(default_factory=list)


class WooRefund(_Raw):
    """A refund summary: ``total`` is negative (``"-10.00"``); the docs example calls ``reason`` ``refund``."""

    id: int | None = None
    reason: str | None = None
    refund: str | None = None
    total: str | None = None


class WooCouponLine(_Raw):
    id: int | None = None
    code: str | None = None
    discount: str | None = None


class WooCustomer(_Raw):
    """A registered customer (a WordPress user)."""

    entity: ClassVar[str] = "customer"

    id: StrictInt = Field(gt=0)
    date_created: str | None = None
    date_created_gmt: str | None = None
    date_modified: str | None = None
    date_modified_gmt: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    role: str | None = None
    username: str | None = None
    billing: OptionalAddress = None
    shipping: OptionalAddress = None
    is_paying_customer: bool | None = None
    meta_data: MetaList = Field(default_factory=list)


class WooOrder(_Raw):
    """An order, in any status (``checkout-draft`` and ``pending`` ones are carts to us)."""

    entity: ClassVar[str] = "order"

    id: StrictInt = Field(gt=0)
    parent_id: int | None = None
    number: str | None = None
    order_key: str | None = None
    created_via: str | None = None
    status: str | None = None
    currency: str | None = None
    date_created: str | None = None
    date_created_gmt: str | None = None
    date_modified: str | None = None
    date_modified_gmt: str | None = None
    date_paid: str | None = None
    date_paid_gmt: str | None = None
    date_completed: str | None = None
    date_completed_gmt: str | None = None
    discount_total: str | None = None
    shipping_total: str | None = None
    total: str | None = None
    total_tax: str | None = None
    customer_id: int = 0  # 0 for guests
    billing: OptionalAddress = None
    shipping: OptionalAddress = None
    payment_url: str | None = None
    meta_data: MetaList = Field(default_factory=list)
    line_items: Annotated[list[WooLineItem], BeforeValidator(_empty_list)] = Field(default_factory=list)
    coupon_lines: Annotated[list[WooCouponLine], BeforeValidator(_empty_list)] = Field(default_factory=list)
    refunds: Annotated[list[WooRefund], BeforeValidator(_empty_list)] = Field(default_factory=list)


# --------------------------------------------------------------------------- pages

_PAGES: dict[type[BaseModel], TypeAdapter[Any]] = {
    WooCustomer: TypeAdapter(list[WooCustomer]),
    WooOrder: TypeAdapter(list[WooOrder]),
}


def _path(loc: tuple[int | str, ...]) -> str | None:
    """``("line_items", 0, "quantity")`` -> ``"line_items[0].quantity"``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not part.startswith("function-"):  # validator names pydantic puts in the location
            text += f".{part}" if text else part
    return text or None


def _element_error(element: Any, model: type[RawT], shop: str, exc: ValidationError | None) -> RecordError:
    # The best id known, even a malformed one, so the entry can be found next to the shop's own id.
    native = element.get("id") if isinstance(element, dict) else None
    record_id = f"{PLATFORM}:{shop}:<no id>"
    if isinstance(native, int | str) and not isinstance(native, bool):
        try:
            record_id = make_id(PLATFORM, shop, native)
        except ValueError:
            pass
    if exc is None:
        return RecordError(record_id=record_id, entity=model.entity, field=None,
                           reason="the list element is not a JSON object")
    first = exc.errors(include_url=False, include_input=False)[0]
    field = _path(first["loc"])
    if field == "id":
        reason = "no usable id (a positive integer is required): the record cannot be keyed"
    elif first["type"] == "missing":
        reason = "required field is missing"
    else:
        reason = first["msg"]
    return RecordError(record_id=record_id, entity=model.entity, field=field, reason=reason)


def parse_page(content: bytes, model: type[RawT], shop: str) -> tuple[list[RawT], list[tuple[RecordError, str]]]:
    """Parse one list page (``GET /customers`` or ``/orders``) from the response bytes.

    The whole page is validated in one pass from the bytes; only when an element fails is the page
    re-read element by element, so one malformed record does not cost the others.

    Args:
        content: the response body.
        model: :class:`WooCustomer` or :class:`WooOrder`.
        shop: the shop's name in config, for the ids of malformed records.

    Returns:
        The valid records in page order, and for each malformed element its error (record id,
        field path such as ``line_items[0].quantity``, reason) and its raw JSON, to quarantine.

    Raises:
        ValueError: the body is not JSON, or not a JSON list: the page itself is unusable.
    """
    try:
        return _adapter(model).validate_json(content), []
    except ValidationError:
        pass  # not a list, not JSON, or a bad element: find out which, below
    try:
        elements = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"the {model.entity} page is not JSON ({exc.__class__.__name__}); expected a list") from None
    if not isinstance(elements, list):
        raise ValueError(f"the {model.entity} page is a JSON {type(elements).__name__}, not a list of records")
    return _one_by_one(elements, model, shop)


def parse_items(items: list[Any], model: type[RawT], shop: str) -> tuple[list[RawT], list[tuple[RecordError, str]]]:
    """:func:`parse_page` for elements already decoded from JSON (a page's list, or records gathered from several)."""
    try:
        return _adapter(model).validate_python(items), []
    except ValidationError:
        return _one_by_one(items, model, shop)


def _adapter(model: type[RawT]) -> TypeAdapter[list[RawT]]:
    return _PAGES.get(model) or TypeAdapter(list[model])  # type: ignore[valid-type]


def _one_by_one(elements: list[Any], model: type[RawT], shop: str) -> tuple[list[RawT], list[tuple[RecordError, str]]]:
    records: list[RawT] = []
    errors: list[tuple[RecordError, str]] = []
    for element in elements:
        if not isinstance(element, dict):
            errors.append((_element_error(element, model, shop, None), _dumps(element)))
            continue
        try:
            records.append(model.model_validate(element))
        except ValidationError as exc:
            errors.append((_element_error(element, model, shop, exc), _dumps(element)))
    return records, errors


def _dumps(element: Any) -> str:
    return json.dumps(element, separators=(",", ":"), ensure_ascii=False)
