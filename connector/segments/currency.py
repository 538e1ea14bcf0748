"""Static exchange rates into one reporting currency, from config.

``rates`` maps an ISO 4217 code to the value of one unit of it in the reporting currency
(``{"USD": "0.92"}`` with reporting currency EUR: 1 USD = 0.92 EUR). The reporting currency
itself always has rate 1. A currency without a rate is never guessed: orders in it are counted
in ``unconverted_orders`` and left out of the converted totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connector.currencies import ISO_4217

__all__ = ["ReportingRates"]

_ONE = Decimal(1)


def _code(value: str) -> str:
    code = value.strip().upper()
    if code not in ISO_4217:
        raise ValueError(f"unknown currency {value!r}: expected an ISO 4217 code such as EUR, USD or GBP")
    return code


class ReportingRates(BaseModel):
    """The reporting currency and the static rate of every other currency into it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reporting_currency: str
    rates: Mapping[str, Decimal] = Field(default_factory=dict)

    @field_validator("reporting_currency")
    @classmethod
    def _reporting(cls, value: str) -> str:
        return _code(value)

    @field_validator("rates")
    @classmethod
    def _rates(cls, value: Mapping[str, Decimal]) -> dict[str, Decimal]:
        checked: dict[str, Decimal] = {}
        for currency, rate in value.items():
            if not rate.is_finite() or rate <= 0:
                raise ValueError(f"rate of {currency}: expected a positive number, got {rate}")
            checked[_code(currency)] = rate
        return checked

    @model_validator(mode="after")
    def _identity(self) -> ReportingRates:
        own = self.rates.get(self.reporting_currency)
        if own is not None and own != _ONE:
            raise ValueError(f"the reporting currency {self.reporting_currency} must have rate 1, not {own}")
        object.__setattr__(self, "rates", {**self.rates, self.reporting_currency: _ONE})
        return self

    def rate(self, currency: str) -> Decimal | None:
        """The rate of ``currency`` into the reporting currency, or ``None`` when config gives none."""
        return self.rates.get(currency)
