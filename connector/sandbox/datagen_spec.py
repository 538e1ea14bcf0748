"""The parameters of a generated shop (see :mod:`connector.sandbox.datagen`)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connector.sandbox.datagen_catalog import FX_RATES

__all__ = ["ShopSpec"]


class ShopSpec(BaseModel):
    """Everything that defines a generated shop; equal specs give equal shops.

    Attributes:
        name: the shop's handle.
        seed: drives every draw; another seed gives another shop.
        customers: how many customer accounts.
        orders_per_customer: mean over all customers (guest orders included), so 1,000,000
            customers make about 5,000,000 orders by default.
        carts_per_customer: abandoned checkouts per customer, on average.
        start, end: the shop's history (UTC); fixed by default (the 5 years to 2026-01-01), never
            "now", so data is reproducible.
        base_currency: the catalogue's currency.
        currencies: (code, weight) of the currencies orders are paid in.
        invalid_email_rate: share of customers whose stored email is invalid.
        population_seed, shared_share: customers are people of the population ``population_seed``;
            for a share ``shared_share`` of customer keys (the same keys in every shop of that
            population) they are the same people in every such shop.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, description="the shop's handle, e.g. 'acme'")
    seed: int
    customers: int = Field(ge=0)
    orders_per_customer: float = Field(default=5.0, ge=0, description="mean over all customers, guest orders included")
    carts_per_customer: float = Field(default=0.3, ge=0)
    start: datetime = datetime(2021, 1, 1, tzinfo=UTC)
    end: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    base_currency: str = "USD"
    currencies: tuple[tuple[str, float], ...] = (("USD", 0.6), ("EUR", 0.25), ("GBP", 0.15))
    invalid_email_rate: float = Field(default=0.005, ge=0, le=1)
    population_seed: int = 0
    shared_share: float = Field(default=0.0, ge=0, le=1)

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must be timezone-aware")
        return value.astimezone(UTC)

    @field_validator("base_currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in FX_RATES:
            raise ValueError(f"unsupported currency {value!r}: use one of {sorted(FX_RATES)}")
        return value

    @field_validator("currencies")
    @classmethod
    def _known_currencies(cls, value: tuple[tuple[str, float], ...]) -> tuple[tuple[str, float], ...]:
        if not value:
            raise ValueError("at least one currency")
        for code, weight in value:
            cls._known_currency(code)
            if weight <= 0:
                raise ValueError(f"weight of {code} must be positive")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> ShopSpec:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self
