"""Lazy record builders: customer, order or cart ``k`` from the seed and the compact indexes.

Each record draws from its own :class:`~connector.sandbox.datagen_rand.Draws` stream, seeded by
``(seed, kind, key)``; a few facts that several records need (a customer's email, preferred
currency and consent) come from their own stateless draws so that an order can look them up
without building the whole customer.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from connector.sandbox.datagen_catalog import FX_RATES, Catalog, to_cents
from connector.sandbox.datagen_index import (
    CANCEL_REFUNDED,
    DRAFT,
    FAILED,
    ORDER_CLASSES,
    PARTIAL,
    PENDING,
    REFUNDED,
    VOIDED,
    ShopIndex,
)
from connector.sandbox.datagen_people import Person, person, shop_email, shop_phone
from connector.sandbox.datagen_rand import Draws, cumulative, kind_base, mix64, unit_of
from connector.sandbox.records import ConsentValue, ShopCart, ShopCustomer, ShopLine, ShopOrder, ShopRefund

__all__ = ["RecordBuilder"]

# Kinds of stateless draws (any distinct small integers).
_CUSTOMER, _ORDER, _CART, _PERSON, _SHARED, _EMAIL, _CURRENCY, _CONSENT = 1, 2, 3, 4, 5, 6, 7, 8
_SLOT = 1_000_000_000  # identity indexes: shared region [1, 1e9), then one region per shop
_GUEST_OFFSET = 600_000_000
_CART_GUEST_OFFSET = 800_000_000
_UNPAID = frozenset({PENDING, FAILED, DRAFT})
_DISCOUNT_CODES = (("WELCOME10", 10), ("SUMMER20", 20), ("VIP15", 15), ("BLACKFRIDAY25", 25), ("SPRING15", 15),
                   ("FREESHIP", 0))
_DISCOUNT_CUM = cumulative((35, 15, 10, 15, 15, 10))
_QUANTITIES = (1, 2, 3, 4, 5)
_QUANTITY_CUM = cumulative((70, 20, 7, 2, 1))
_CART_LINES = (1, 2, 3, 4)
_CART_LINES_CUM = cumulative((50, 30, 13, 7))
_CHANNELS: tuple[Literal["web", "pos", "mobile"], ...] = ("web", "pos", "mobile")
_CHANNEL_CUM = cumulative((82, 10, 8))
_LOYALTY = ("bronze", "silver", "gold")
_LOYALTY_CUM = cumulative((60, 30, 10))
_SHIPPING_USD = Decimal("6.95")
_FREE_SHIPPING_USD = Decimal("75")
_HUNDRED = Decimal(100)
_ZERO = Decimal(0)


class RecordBuilder:
    """Builds base records (as generated, before any mutation) on demand."""

    def __init__(self, *, seed: int, population_seed: int, shared_share: float, invalid_email_rate: float,
                 start: datetime, currencies: tuple[tuple[str, float], ...], index: ShopIndex,
                 catalog: Catalog) -> None:
        self.index = index
        self.catalog = catalog
        self._shared_share = shared_share
        self._invalid = invalid_email_rate
        self._start = start
        self._currencies = tuple(c for c, _ in currencies)
        self._currency_cum = cumulative([w for _, w in currencies])
        self._customer_base = kind_base(seed, _CUSTOMER)
        self._order_base = kind_base(seed, _ORDER)
        self._cart_base = kind_base(seed, _CART)
        self._email_base = kind_base(seed, _EMAIL)
        self._shared_base = kind_base(population_seed, _SHARED)
        self._currency_base = kind_base(seed, _CURRENCY)
        self._consent_base = kind_base(seed, _CONSENT)
        self._person_base = kind_base(population_seed, _PERSON)
        self._slot = _SLOT * (1 + mix64(seed) % (1 << 20))
        self._shipping = {c: to_cents(_SHIPPING_USD * FX_RATES[c]) for c in FX_RATES}
        self._free_from = {c: to_cents(_FREE_SHIPPING_USD * FX_RATES[c]) for c in FX_RATES}

    # -- facts shared between records ---------------------------------------------------------
    def identity(self, customer_key: int) -> int:
        """The population index of customer ``customer_key`` (the same across shops when shared)."""
        if unit_of(self._shared_base, customer_key) < self._shared_share:
            return customer_key
        return self._slot + customer_key

    def person_of(self, customer_key: int) -> Person:
        """The person behind customer ``customer_key``."""
        return person(self._person_base, self.identity(customer_key))

    def email_of(self, customer_key: int, who: Person) -> str:
        """The email customer ``customer_key`` typed into this shop."""
        return shop_email(Draws(self._email_base, customer_key), who.email, self._invalid)

    def currency_of(self, customer_key: int) -> str:
        """The currency a customer usually pays in."""
        u = unit_of(self._currency_base, customer_key)
        return self._currencies[min(bisect_right(self._currency_cum, u), len(self._currencies) - 1)]

    def consent_draw(self, customer_key: int) -> float:
        """The uniform deciding a customer's consent state (orders read it for WooCommerce's opt-in meta)."""
        return unit_of(self._consent_base, customer_key)

    def customers_by(self, rel: int) -> int:
        """How many customers were created at or before ``rel`` seconds."""
        return bisect_right(self.index.customers.created, rel, 1) - 1

    def _at(self, rel: int) -> datetime:
        return self._start + timedelta(seconds=rel)

    # -- records --------------------------------------------------------------------------------
    def customer(self, k: int) -> ShopCustomer:
        """Customer ``k`` as generated."""
        ix = self.index
        created, updated = ix.customers.created[k], ix.customers.updated[k]
        who = self.person_of(k)
        d = Draws(self._customer_base, k)
        details = who.details()
        named = d.chance(0.98) or k == 1
        phone = shop_phone(d, who.country, details.phone) if d.chance(0.7) else None
        with_address = d.chance(0.9)
        tags: list[str] = []
        tier = None
        if d.chance(0.15):
            tier = d.weighted(_LOYALTY, _LOYALTY_CUM)
            tags.append(f"loyalty-{tier}")
        if (ix.order_count(k) >= ix.vip_min_orders and d.chance(0.8)) or d.chance(0.003):
            tags.append("vip")
        if who.company:
            tags.append("wholesale")
        u = self.consent_draw(k)
        room = updated - created
        consent: ConsentValue
        consent_at: datetime | None
        if u < 0.45:
            consent, consent_at = "subscribed", self._at(created + min(room, d.below(60)))
        elif u < 0.80:
            consent, consent_at = "not_subscribed", None
        elif u < 0.92:
            consent = "unsubscribed"
            consent_at = self._at(created + min(room, 60 + int(d.u() * max(0, room - 60))))
        else:
            consent, consent_at = "pending", self._at(created + min(room, d.below(30)))
        return ShopCustomer(
            key=k,
            email=self.email_of(k, who),
            first_name=who.first_name if named else None,
            last_name=who.last_name if named else None,
            phone=phone,
            country=who.country.code,
            region=who.region if with_address else None,
            city=who.city if with_address else None,
            postal_code=who.postal_code if with_address else None,
            address1=details.address1 if with_address else None,
            company=who.company,
            locale=who.locale if d.chance(0.95) else None,
            tags=tuple(tags),
            consent=consent,
            consent_updated_at=consent_at,
            birthday=details.birthday if d.chance(0.4) else None,
            loyalty_tier=tier,
            created_at=self._at(created),
            updated_at=self._at(updated),
            is_staff=(k == 1 and ix.customers.n >= 100) or d.chance(1 / 20_000),
        )

    def order(self, k: int) -> ShopOrder:
        """Order ``k`` as generated."""
        ix = self.index
        created, updated = ix.orders.created[k], ix.orders.updated[k]
        cls = ix.order_class[k]
        status, financial, _ = ORDER_CLASSES[cls]
        d = Draws(self._order_base, k)
        c = ix.order_customer[k]
        if c:
            who = self.person_of(c)
            email = self.email_of(c, who)
            currency = self.currency_of(c) if d.chance(0.75) else d.weighted(self._currencies, self._currency_cum)
            opt_in = self.consent_draw(c) < 0.45
        else:
            who, email = self._guest(d, created, _GUEST_OFFSET + k)
            currency = d.weighted(self._currencies, self._currency_cum)
            opt_in = d.chance(0.3)
        lines = self._lines(d, currency, 1 + min(11, d.poisson(1.4)))
        codes: tuple[str, ...] = ()
        free_shipping = False
        if d.chance(0.15):
            code, percent = d.weighted(_DISCOUNT_CODES, _DISCOUNT_CUM)
            codes, free_shipping = (code,), percent == 0
            if percent:
                lines = tuple(
                    ShopLine(li.product, li.quantity, li.unit_price, to_cents(li.unit_price * li.quantity * percent
                                                                              / _HUNDRED))
                    for li in lines
                )
        subtotal = sum((li.total for li in lines), _ZERO)
        channel = d.weighted(_CHANNELS, _CHANNEL_CUM)
        shipping = _ZERO if free_shipping or channel == "pos" or subtotal >= self._free_from[currency] \
            else self._shipping[currency]
        tax = to_cents((subtotal + shipping) * who.tax_rate)
        total = subtotal + shipping + tax
        refunds: tuple[ShopRefund, ...] = ()
        if cls in (REFUNDED, CANCEL_REFUNDED):
            refunds = (ShopRefund(self._at(updated), total, tuple((i, li.quantity) for i, li in enumerate(lines))),)
        elif cls == PARTIAL:
            refunds = (self._partial_refund(d, lines, total, self._at(updated)),)
        return ShopOrder(
            key=k,
            number=1000 + k,
            customer_key=c or None,
            email=email,
            currency=currency,
            status=status,
            financial=financial,
            created_at=self._at(created),
            updated_at=self._at(updated),
            processed_at=None if cls in _UNPAID else self._at(created + min(updated - created, d.below(90))),
            cancelled_at=self._at(updated) if cls in (VOIDED, CANCEL_REFUNDED) else None,
            test=d.chance(0.005),
            source_channel=channel,
            discount_codes=codes,
            lines=lines,
            shipping=shipping,
            tax=tax,
            refunds=refunds,
            billing_country=who.country.code,
            billing_city=who.city,
            billing_postal_code=who.postal_code,
            meta={"_newsletter_optin": "yes"} if opt_in else {},
        )

    def cart(self, k: int) -> ShopCart:
        """Abandoned checkout ``k`` as generated."""
        ix = self.index
        created, updated = ix.carts.created[k], ix.carts.updated[k]
        d = Draws(self._cart_base, k)
        known = self.customers_by(created)
        if known and d.chance(0.85):
            c = 1 + d.below(known)
            email = self.email_of(c, self.person_of(c))
            currency = self.currency_of(c)
        else:
            c = 0
            _, email = self._guest(d, created, _CART_GUEST_OFFSET + k, new_only=True)
            currency = d.weighted(self._currencies, self._currency_cum)
        lines = self._lines(d, currency, d.weighted(_CART_LINES, _CART_LINES_CUM))
        return ShopCart(
            key=k,
            customer_key=c or None,
            email=email,
            currency=currency,
            token=d.hex(32),
            lines=lines,
            created_at=self._at(created),
            updated_at=self._at(updated),
            completed_at=self._at(updated) if ix.cart_completed[k] else None,
        )

    # -- helpers --------------------------------------------------------------------------------
    def _guest(self, d: Draws, rel: int, region: int, new_only: bool = False) -> tuple[Person, str]:
        """A guest buyer: a new person (half), or one who registers later, or a customer not logged in."""
        u = 0.0 if new_only else d.u()
        if u >= 0.5:
            known = self.customers_by(rel)
            n = self.index.customers.n
            c = 0
            if u < 0.8 and known < n:
                c = known + 1 + d.below(n - known)  # will create an account later
            elif u >= 0.8 and known:
                c = 1 + d.below(known)  # has an account but checked out as a guest
            if c:
                who = self.person_of(c)
                return who, self.email_of(c, who)
        who = person(self._person_base, self._slot + region)
        return who, shop_email(d, who.email, self._invalid)

    def _lines(self, d: Draws, currency: str, count: int) -> tuple[ShopLine, ...]:
        """``count`` lines of distinct products (a product drawn twice is redrawn, then dropped)."""
        catalog = self.catalog
        products, popularity, prices = catalog.products, catalog.popularity, catalog.prices[currency]
        lines = []
        seen: set[int] = set()
        for _ in range(count):
            for _attempt in range(4):
                i = bisect_right(popularity, d.u())
                if i not in seen:
                    seen.add(i)
                    lines.append(ShopLine(products[i], d.weighted(_QUANTITIES, _QUANTITY_CUM), prices[i]))
                    break
        return tuple(lines)

    @staticmethod
    def _partial_refund(d: Draws, lines: tuple[ShopLine, ...], total: Decimal, at: datetime) -> ShopRefund:
        """Some of the lines back (never all), or a goodwill amount when there is only one item."""
        if len(lines) > 1:
            chosen = [i for i in range(len(lines)) if d.chance(0.5)]
            if not chosen or len(chosen) == len(lines):
                chosen = [d.below(len(lines))]
            amount = sum((lines[i].total for i in chosen), _ZERO)
            return ShopRefund(at, amount, tuple((i, lines[i].quantity) for i in chosen))
        line = lines[0]
        if line.quantity > 1:
            back = d.between(1, line.quantity - 1)
            return ShopRefund(at, to_cents(line.total * back / line.quantity), ((0, back),))
        return ShopRefund(at, to_cents(total * d.between(10, 50) / _HUNDRED))
