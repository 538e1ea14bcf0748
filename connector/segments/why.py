"""Why a person is (or is not) in each segment: the rule, and the values it saw.

:func:`profile_row` turns a stored :class:`~connector.store.profiles.Profile` into the field values
the rules see (the same mapping :mod:`connector.segments.columns` gives SQL, computed the same way
from the injected ``today``), and :func:`explain_person` evaluates each segment's rule on it,
condition by condition. Tests check that it agrees with the SQL selection.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date
from typing import Any

from pydantic import BaseModel, ConfigDict

from connector.segments.explain import ExplainStep, evaluate_rule, explain_values
from connector.segments.nodes import Rule
from connector.store.profiles import Profile

__all__ = ["SegmentReason", "explain_person", "profile_row"]


class SegmentReason(BaseModel):
    """One segment's verdict for one person: in or out, and each condition with the value it saw."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    segment: str
    rule: str
    member: bool
    steps: tuple[ExplainStep, ...]


def profile_row(profile: Profile, today: date) -> dict[str, Any]:
    """The profile's values by catalog field name, as of ``today`` (custom attributes as ``attributes.<name>``)."""
    last_day = profile.last_order_at.astimezone(UTC).date() if profile.last_order_at else None
    cart = profile.cart
    scores = (profile.rfm_recency, profile.rfm_frequency, profile.rfm_monetary)
    row: dict[str, Any] = {
        "email": profile.email,
        **{name: getattr(profile, name) for name in (
            "first_name", "last_name", "phone", "country", "region", "city", "postal_code", "company",
            "favourite_category", "favourite_product_type", "is_b2b", "is_staff", "lifecycle", "rfm_group",
            "orders_count", "rfm_recency", "rfm_frequency", "rfm_monetary", "discount_orders", "total_spent",
            "average_order_value", "purchase_frequency", "birthday", "spend_percentile", "categories",
            "product_types", "products", "shops", "shop_tags", "discount_codes", "channels")},
        "consent": profile.consent_state.value,
        "first_order_date": profile.first_order_at,
        "last_order_date": profile.last_order_at,
        "signup_date": profile.signup_at,
        "consent_date": profile.consent_at,
        "days_since_last_order": (today - last_day).days if last_day else None,
        "birthday_month": profile.birthday.month if profile.birthday else None,
        "has_open_cart": cart is not None,
        "cart_value": cart.value_reporting if cart else None,
        "cart_items": cart.items if cart else None,
        "cart_url": cart.recovery_url if cart else None,
        "cart_abandoned_at": cart.abandoned_at if cart else None,
        "rfm_score": "".join(str(s) for s in scores) if all(s is not None for s in scores) else None,
    }
    row.update({f"attributes.{name}": value for name, value in profile.attributes.items()})
    return row


def explain_person(profile: Profile, segments: Iterable[tuple[str, Rule]] | Mapping[str, Rule],
                   today: date) -> list[SegmentReason]:
    """For each ``(segment name, rule)``: whether ``profile`` is in it on ``today``, and why."""
    row = profile_row(profile, today)
    pairs = segments.items() if isinstance(segments, Mapping) else segments
    return [
        SegmentReason(segment=name, rule=rule.source, member=evaluate_rule(rule, row, today=today),
                      steps=tuple(explain_values(rule, row, today=today)))
        for name, rule in pairs
    ]
