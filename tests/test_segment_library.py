"""The built-in segment library: each built-in selects the hand-picked people, thresholds and areas apply."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from connector.segments import evaluate_rule
from connector.segments.library import BuiltinSegment, LibrarySettings, LocalArea, builtin_segments, tag_name

TODAY = date(2026, 3, 15)

# Five people, every value chosen so each built-in has a clear yes and a clear no.
PEOPLE: dict[str, dict[str, Any]] = {
    "ada": {"orders_count": 4, "days_since_last_order": 20, "spend_percentile": 95, "rfm_group": "Champions",
            "lifecycle": "active", "consent": "subscribed", "average_order_value": Decimal("180.00"),
            "birthday_month": 3, "is_b2b": True, "discount_orders": 0, "has_open_cart": False,
            "country": "FR", "region": "IDF", "city": "Paris", "postal_code": "75011"},
    "bob": {"orders_count": 1, "days_since_last_order": 200, "spend_percentile": 40, "rfm_group": "Hibernating",
            "lifecycle": "inactive", "consent": "unsubscribed", "average_order_value": Decimal("149.99"),
            "birthday_month": 4, "is_b2b": False, "discount_orders": 1, "has_open_cart": True,
            "country": "FR", "region": "IDF", "city": "Boulogne", "postal_code": "92100"},
    "chloe": {"orders_count": 0, "days_since_last_order": None, "spend_percentile": None, "rfm_group": None,
              "lifecycle": "prospect", "consent": "subscribed", "average_order_value": None,
              "birthday_month": None, "is_b2b": False, "discount_orders": 0, "has_open_cart": False,
              "country": "BE", "region": None, "city": "Brussels", "postal_code": "1000"},
    "dan": {"orders_count": 2, "days_since_last_order": 400, "spend_percentile": 90, "rfm_group": "At risk",
            "lifecycle": "lapsed", "consent": "not_subscribed", "average_order_value": Decimal("150"),
            "birthday_month": 12, "is_b2b": False, "discount_orders": 2, "has_open_cart": False,
            "country": "FR", "region": "ARA", "city": "Lyon", "postal_code": "69003"},
    "eve": {"orders_count": 1, "days_since_last_order": 5, "spend_percentile": 10, "rfm_group": "New customers",
            "lifecycle": "new", "consent": "pending", "average_order_value": Decimal("20"),
            "birthday_month": 3, "is_b2b": False, "discount_orders": 1, "has_open_cart": True,
            "country": "FR", "region": "IDF", "city": "PARIS", "postal_code": "75002"},
}


def members(segment: BuiltinSegment) -> set[str]:
    return {name for name, values in PEOPLE.items() if evaluate_rule(segment.rule, values, today=TODAY)}


def by_name(settings: LibrarySettings | None = None) -> dict[str, BuiltinSegment]:
    return {segment.name: segment for segment in builtin_segments(settings)}


@pytest.mark.parametrize(("name", "expected"), [
    ("abandoned_cart", {"bob", "eve"}),
    ("inactive_6_months", {"bob", "dan"}),      # 200 and 400 days; chloe never ordered
    ("inactive_12_months", {"dan"}),
    ("best_customers", {"ada"}),                # RFM Champions
    ("loyal", {"ada"}),                         # 3 orders or more
    ("new_customers", {"eve"}),
    ("subscribers_never_ordered", {"chloe"}),
    ("one_time_buyers", {"bob", "eve"}),
    ("birthday_this_month", {"ada", "eve"}),    # March
    ("b2b", {"ada"}),
    ("discount_seekers", {"dan"}),
    ("unsubscribed", {"bob"}),
])
def test_each_builtin_selects_the_hand_picked_people(name: str, expected: set[str]) -> None:
    assert members(by_name()[name]) == expected


def test_defaults_tags_and_what_is_off() -> None:
    segments = by_name()
    assert "high_aov" not in segments  # off by default
    assert segments["best_customers"].tag == "Segment – Best customers"
    assert tag_name("Product", "T-shirt") == "Product – T-shirt"
    assert tag_name("Status", "Customer", " / ") == "Status / Customer"
    with pytest.raises(ValueError, match="category and a name"):
        tag_name("Segment", " ")


def test_thresholds_and_switches_come_from_settings() -> None:
    settings = LibrarySettings(best_customers="top_10_percent", loyal_min_orders=2, high_aov=True,
                               high_aov_min=Decimal("150"), discount_min_orders=1, b2b=False,
                               tag_category="Seg", separator=": ")
    segments = by_name(settings)
    assert members(segments["best_customers"]) == {"ada", "dan"}  # spend percentile 90 and above
    assert members(segments["loyal"]) == {"ada", "dan"}
    assert members(segments["high_aov"]) == {"ada", "dan"}  # 150 exactly is in; 149.99 is not
    assert members(segments["discount_seekers"]) == {"bob", "dan", "eve"}
    assert "b2b" not in segments
    assert segments["loyal"].tag == "Seg: Loyal"


def test_local_areas_by_country_city_and_postal_prefixes() -> None:
    paris = LocalArea(name="paris", title="Paris", country="FR", postal_prefixes=("75", "92"))
    lyon = LocalArea(name="lyon", title="Lyon", country="FR", city="lyon")
    segments = by_name(LibrarySettings(local_areas=(paris, lyon)))
    assert members(segments["local_paris"]) == {"ada", "bob", "eve"}
    assert members(segments["local_lyon"]) == {"dan"}
    assert segments["local_paris"].tag == "Segment – Paris"
    with pytest.raises(ValueError, match="postal prefixes"):
        LocalArea(name="x", title="X", country="FR", postal_prefixes=('7"5',))
