"""Canonical models: the only shapes the core knows.

Sources turn platform payloads into these; the store, the segmentation core and the plan read
nothing else. They are frozen pydantic models with:

- ids namespaced by source: ``<platform>:<shop>:<native id>`` (see :func:`make_id`);
- emails trimmed, lower-cased and syntax-checked (email-validator, no network);
- phones normalised to E.164 using the customer's country, or dropped with a reason;
- money as :class:`~decimal.Decimal`, currencies as ISO 4217 codes;
- every datetime timezone-aware and converted to UTC (naive datetimes are refused).

A record that cannot be used (no or invalid email where one is required, unknown currency,
missing field) never crashes a batch: :func:`parse_record` turns the validation failure into a
:class:`~connector.errors.RecordError` naming the record, the field and what to do, which the
caller quarantines before going on. A phone that cannot be normalised is dropped from the
record and noted in ``issues``; the record itself stays usable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from connector.currencies import ISO_4217
from connector.errors import RecordError

__all__ = [
    "Address",
    "Cart",
    "CartItem",
    "ConsentState",
    "Customer",
    "FieldIssue",
    "FinancialStatus",
    "LineItem",
    "MarketingConsent",
    "Order",
    "OrderStatus",
    "make_id",
    "normalize_email",
    "normalize_phone",
    "parse_record",
    "split_id",
]

_ID = re.compile(r"^(?P<platform>[a-z][a-z0-9_]*):(?P<shop>[A-Za-z0-9][A-Za-z0-9_.\-]*):(?P<native>\S.*)$")
ModelT = TypeVar("ModelT", bound=BaseModel)


# --------------------------------------------------------------------------- field normalisers


def make_id(platform: str, shop: str, native_id: str | int) -> str:
    """Build a namespaced id, e.g. ``make_id("shopify", "acme", 42) == "shopify:acme:42"``."""
    value = f"{platform}:{shop}:{native_id}"
    if not _ID.match(value):
        raise ValueError(f"cannot build an id from platform={platform!r}, shop={shop!r}, id={native_id!r}")
    return value


def split_id(value: str) -> tuple[str, str, str]:
    """``"shopify:acme:gid://shopify/Customer/1"`` -> ``("shopify", "acme", "gid://shopify/Customer/1")``."""
    match = _ID.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a namespaced id of the form <platform>:<shop>:<id>")
    return match["platform"], match["shop"], match["native"]


def _check_id(value: str) -> str:
    split_id(value)
    return value


def normalize_email(value: str) -> str:
    """Trim, lower-case and syntax-check an email address (no DNS lookup).

    Raises:
        ValueError: the address is not a syntactically valid email address.
    """
    candidate = value.strip().lower()
    if not candidate:
        raise ValueError("the email address is empty")
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address ({exc})") from None
    return result.normalized.lower()


def normalize_phone(value: str, country: str | None) -> str:
    """Normalise a phone number to E.164, reading national numbers in ``country``.

    Raises:
        ValueError: the number cannot be parsed or is not a valid number.
    """
    try:
        parsed = phonenumbers.parse(value, country or None)
    except phonenumbers.NumberParseException as exc:
        hint = "" if country else " (no country known to read a national number; add the country code)"
        raise ValueError(f"not a phone number: {exc}{hint}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"not a valid phone number for {country or 'any country'}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _upper_strip(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _check_currency(value: str) -> str:
    if value not in ISO_4217:
        raise ValueError(f"unknown currency {value!r}: expected an ISO 4217 code such as EUR, USD or GBP")
    return value


def _check_country(value: str | None) -> str | None:
    if value is not None and value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown country {value!r}: expected an ISO 3166-1 alpha-2 code such as FR or US")
    return value


NamespacedId = Annotated[str, AfterValidator(_check_id)]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
Email = Annotated[str, AfterValidator(normalize_email)]
Currency = Annotated[str, BeforeValidator(_upper_strip), AfterValidator(_check_currency)]
CountryCode = Annotated[str | None, BeforeValidator(_blank_to_none), BeforeValidator(_upper_strip),
                        AfterValidator(_check_country)]
Text = Annotated[str | None, BeforeValidator(_blank_to_none)]
# Four decimal places cover every ISO 4217 currency; the store keeps money exactly to that
# precision, so a finer amount is refused here (quarantined) rather than rounded later.
Money = Annotated[Decimal, Field(allow_inf_nan=False, decimal_places=4)]
NonNegativeMoney = Annotated[Decimal, Field(ge=0, allow_inf_nan=False, decimal_places=4)]
AttributeValue = str | int | float | bool | Decimal | date | AwareDatetime


def _check_attributes(values: Any) -> Any:
    # Before the union: a naive datetime is also a ``date`` and would be coerced into one.
    if not isinstance(values, Mapping):
        return values
    checked = {}
    for key, value in values.items():
        if isinstance(value, datetime):
            if value.utcoffset() is None:
                raise ValueError(f"attribute {key!r}: datetime has no timezone; the source must send an offset or UTC")
            value = value.astimezone(UTC)
        checked[key] = value
    return checked


Attributes = Annotated[Mapping[str, AttributeValue], BeforeValidator(_check_attributes)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


# --------------------------------------------------------------------------- customers


class ConsentState(StrEnum):
    """Email-marketing consent, as the shop records it."""

    SUBSCRIBED = "subscribed"
    NOT_SUBSCRIBED = "not_subscribed"
    UNSUBSCRIBED = "unsubscribed"
    PENDING = "pending"


class MarketingConsent(_Frozen):
    """A consent decision and its provenance.

    ``source`` says where the state was read, e.g. ``shopify:emailMarketingConsent`` or
    ``woocommerce:meta:_newsletter_optin``; ``updated_at`` is when the person decided, if known.
    """

    state: ConsentState = ConsentState.NOT_SUBSCRIBED
    updated_at: UtcDatetime | None = None
    source: str = "default"
    opt_in_level: Text = None


class Address(_Frozen):
    """A postal address, as far as segmentation needs one."""

    country: CountryCode = None
    region: Text = None
    city: Text = None
    postal_code: Text = None


class FieldIssue(_Frozen):
    """A field that was dropped from an otherwise usable record, and why."""

    field: str
    reason: str


class Customer(_Frozen):
    """A shop customer. ``email`` is required: without one there is nobody to email."""

    id: NamespacedId
    email: Email
    first_name: Text = None
    last_name: Text = None
    phone: Text = None
    address: Address = Address()
    birthday: date | None = None
    company: Text = None
    locale: Text = None
    tags: tuple[str, ...] = ()
    created_at: UtcDatetime
    updated_at: UtcDatetime
    consent: MarketingConsent = MarketingConsent()
    is_staff: bool = False
    # Raw custom source values (metafields ``namespace.key``, WooCommerce meta keys) that config
    # maps to typed profile attributes; the core types them, the source only carries them.
    attributes: Attributes = Field(default_factory=dict)
    issues: tuple[FieldIssue, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _normalize_phone(cls, data: Any) -> Any:
        """Normalise the phone with the customer's country, or drop it and say why."""
        if not isinstance(data, Mapping) or not data.get("phone"):
            return data
        data = dict(data)
        address = data.get("address")
        country = address.get("country") if isinstance(address, Mapping) else getattr(address, "country", None)
        country = country.strip().upper() if isinstance(country, str) and country.strip() else None
        try:
            data["phone"] = normalize_phone(str(data["phone"]), country)
        except ValueError as exc:
            data["phone"] = None
            data["issues"] = (*data.get("issues", ()), FieldIssue(field="phone", reason=str(exc)))
        return data

    @model_validator(mode="after")
    def _clean_tags(self) -> Customer:
        cleaned = tuple(dict.fromkeys(t.strip() for t in self.tags if t and t.strip()))
        if cleaned != self.tags:
            object.__setattr__(self, "tags", cleaned)
        return self


# --------------------------------------------------------------------------- orders


class OrderStatus(StrEnum):
    """Where an order stands, across platforms."""

    PENDING = "pending"  # created, not paid (WooCommerce pending, Shopify open + unpaid)
    PROCESSING = "processing"  # paid, not yet fulfilled
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    FAILED = "failed"  # payment failed
    DRAFT = "draft"  # WooCommerce block-checkout draft, Shopify draft order


class FinancialStatus(StrEnum):
    """The money side of an order."""

    PENDING = "pending"
    AUTHORIZED = "authorized"
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    UNKNOWN = "unknown"


class LineItem(_Frozen):
    """One line of an order or cart. ``unit_price`` before discounts, ``total`` after them."""

    line_id: Text = None
    product_id: Text = None
    variant_id: Text = None
    sku: Text = None
    title: str
    product_type: Text = None
    category: Text = None
    vendor: Text = None
    quantity: int = Field(ge=0)
    unit_price: NonNegativeMoney
    total: NonNegativeMoney | None = None
    refunded_quantity: int = Field(default=0, ge=0)


class Order(_Frozen):
    """A placed order. Guest orders have no ``customer_id`` but keep the buyer's ``email``."""

    id: NamespacedId
    customer_id: NamespacedId | None = None
    email: Email | None = None
    number: Text = None
    status: OrderStatus
    financial_status: FinancialStatus = FinancialStatus.UNKNOWN
    currency: Currency
    subtotal: NonNegativeMoney = Decimal(0)
    discount_total: NonNegativeMoney = Decimal(0)
    shipping_total: NonNegativeMoney = Decimal(0)
    tax_total: NonNegativeMoney = Decimal(0)
    total: NonNegativeMoney
    refunded_total: NonNegativeMoney = Decimal(0)
    discount_codes: tuple[str, ...] = ()
    source_channel: Text = None  # web, pos, mobile, ...
    test: bool = False
    created_at: UtcDatetime
    updated_at: UtcDatetime
    processed_at: UtcDatetime | None = None
    cancelled_at: UtcDatetime | None = None
    billing_address: Address = Address()
    line_items: tuple[LineItem, ...] = ()
    attributes: Attributes = Field(default_factory=dict)

    @property
    def is_cancelled(self) -> bool:
        """Cancelled or voided: the order never counted as a sale."""
        return (
            self.cancelled_at is not None
            or self.status == OrderStatus.CANCELLED
            or self.financial_status == FinancialStatus.VOIDED
        )

    @property
    def is_fully_refunded(self) -> bool:
        return self.status == OrderStatus.REFUNDED or self.financial_status == FinancialStatus.REFUNDED or (
            self.total > 0 and self.refunded_total >= self.total
        )

    @property
    def net_total(self) -> Decimal:
        """What the shop kept: the total less refunds, and nothing for a cancelled order."""
        if self.is_cancelled or self.is_fully_refunded:
            return Decimal(0)
        return max(Decimal(0), self.total - self.refunded_total)

    @model_validator(mode="after")
    def _refund_bound(self) -> Order:
        if self.refunded_total > self.total:
            raise ValueError(f"refunded_total {self.refunded_total} exceeds total {self.total}")
        return self


# --------------------------------------------------------------------------- carts


class CartItem(LineItem):
    """A line of an abandoned cart."""


class Cart(_Frozen):
    """An abandoned checkout. It stops being abandoned once ``completed_at`` is set."""

    id: NamespacedId
    customer_id: NamespacedId | None = None
    email: Email
    items: tuple[CartItem, ...] = ()
    value: NonNegativeMoney
    currency: Currency
    created_at: UtcDatetime
    updated_at: UtcDatetime
    completed_at: UtcDatetime | None = None
    recovery_url: Text = None

    @property
    def is_abandoned(self) -> bool:
        return self.completed_at is None


# --------------------------------------------------------------------------- record parsing


def _entity_name(model: type[BaseModel]) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()


def _error_field(loc: tuple[int | str, ...]) -> str | None:
    # pydantic puts validator names in the location for Annotated/union branches; keep the data path.
    parts = [str(p) for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
    return ".".join(parts) or None


def _reason(error: Mapping[str, Any]) -> str:
    message = str(error.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if error.get("type") == "missing":
        return "required field is missing; the source must provide it"
    if error.get("type") == "timezone_aware":
        return "datetime has no timezone; the source must send an offset or UTC"
    return message


def parse_record(model: type[ModelT], data: Mapping[str, Any], *, record_id: str | None = None) -> ModelT:
    """Validate ``data`` as ``model``; turn failure into a :class:`RecordError` to quarantine.

    Args:
        model: the canonical model class (``Customer``, ``Order``, ``Cart``).
        data: the normalised fields.
        record_id: the id to report if ``data`` has no usable ``id``.

    Returns:
        The validated, normalised model.

    Raises:
        RecordError: naming the record, the first offending field and the reason. The message
            never repeats the offending value, which may be personal data.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        first = errors[0]
        rid = record_id or str(data.get("id") or "<no id>")
        reason = _reason(first)
        if len(errors) > 1:
            others = sorted({f for e in errors[1:] if (f := _error_field(e["loc"]))} - {_error_field(first["loc"])})
            if others:
                reason += f" (also invalid: {', '.join(others)})"
        raise RecordError(
            record_id=rid, entity=_entity_name(model), field=_error_field(first["loc"]), reason=reason
        ) from None
