"""Lifecycle stage: where a person stands with the shop, from their orders and today's date.

Stages, the first that applies (thresholds configurable, days counted from ``today``):

* ``prospect``: never ordered (a subscriber or an account who has not bought yet);
* ``new``: first order within ``new_days`` (30);
* ``active``: last order within ``at_risk_days`` (90);
* ``at_risk``: last order within ``inactive_days`` (180);
* ``inactive``: last order within ``lapsed_days`` (365): no order for 6 months;
* ``lapsed``: no order for 12 months or more.

The stage changes with the date alone, which is why the plan is recomputed on a full refresh even
when no source data changed.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["STAGES", "LifecycleThresholds", "lifecycle_stage"]

STAGES: tuple[str, ...] = ("prospect", "new", "active", "at_risk", "inactive", "lapsed")


class LifecycleThresholds(BaseModel):
    """Days that separate the stages (config: ``[segments.lifecycle]``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    new_days: int = Field(default=30, ge=1, description="a first order this recent makes a new customer")
    at_risk_days: int = Field(default=90, ge=1, description="no order for this long: at risk")
    inactive_days: int = Field(default=180, ge=1, description="no order for this long: inactive")
    lapsed_days: int = Field(default=365, ge=1, description="no order for this long: lapsed")

    @model_validator(mode="after")
    def _increasing(self) -> LifecycleThresholds:
        if not self.at_risk_days < self.inactive_days < self.lapsed_days:
            raise ValueError("expected at_risk_days < inactive_days < lapsed_days "
                             f"(got {self.at_risk_days}, {self.inactive_days}, {self.lapsed_days})")
        return self


def lifecycle_stage(first_order: date | None, last_order: date | None, today: date,
                    thresholds: LifecycleThresholds | None = None) -> str:
    """The stage of a person whose first and last orders were on these dates (None: never ordered)."""
    limits = thresholds or LifecycleThresholds()
    if last_order is None or first_order is None:
        return "prospect"
    if (today - first_order).days < limits.new_days:
        return "new"
    quiet = (today - last_order).days
    if quiet < limits.at_risk_days:
        return "active"
    if quiet < limits.inactive_days:
        return "at_risk"
    if quiet < limits.lapsed_days:
        return "inactive"
    return "lapsed"
