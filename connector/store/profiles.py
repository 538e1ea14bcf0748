"""Reading one person's profile: identity, every metric, set and attribute, as a frozen model.

The profile tables are written by :mod:`connector.segments.identity` and
:mod:`connector.segments.metrics`; this module only reads them, for ``explain`` and tests.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, RowMapping, select

from connector.models import ConsentState
from connector.store.schema import (
    customers,
    person_customers,
    person_guests,
    persons,
    profile_attributes,
    profile_metrics,
    profile_money,
    profile_values,
)
from connector.store.sql import chunked

__all__ = [
    "PROFILE_BATCH", "SET_NAMES", "MoneyTotal", "OpenCart", "Profile", "find_person_id", "get_profile", "iter_profiles",
    "read_profiles",
]

PROFILE_BATCH = 1_000  # persons read per round of queries

SET_NAMES = ("categories", "product_types", "products", "shops", "shop_tags", "discount_codes", "channels")
AttributeValue = str | Decimal | date


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MoneyTotal(_Frozen):
    """Counted orders and their net total in one order currency."""

    currency: str
    orders: int
    total_spent: Decimal


class OpenCart(_Frozen):
    """The person's open abandoned cart."""

    value: Decimal
    currency: str
    value_reporting: Decimal | None  # None: no rate for the cart's currency
    items: int  # units (sum of quantities)
    recovery_url: str | None
    abandoned_at: datetime


class Profile(_Frozen):
    """Everything the store knows about one person (see :mod:`connector.segments.metrics` for definitions)."""

    person_id: str
    email: str
    previous_email: str | None
    customer_ids: tuple[str, ...]  # namespaced source ids of every linked customer
    guest_emails: tuple[str, ...]  # emails of guest checkouts linked to the person
    as_of: date | None  # the "today" metrics were computed for; None: never computed
    orders_count: int = 0
    unconverted_orders: int = 0
    total_spent: Decimal = Decimal(0)
    average_order_value: Decimal | None = None
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    purchase_frequency: float | None = None
    favourite_category: str | None = None
    favourite_product_type: str | None = None
    discount_orders: int = 0
    cart: OpenCart | None = None
    signup_at: datetime | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    company: str | None = None
    country: str | None = None
    region: str | None = None
    city: str | None = None
    postal_code: str | None = None
    birthday: date | None = None
    is_b2b: bool = False
    is_staff: bool = False
    consent_state: ConsentState = ConsentState.NOT_SUBSCRIBED
    consent_at: datetime | None = None
    consent_source: str | None = None
    rfm_recency: int | None = None
    rfm_frequency: int | None = None
    rfm_monetary: int | None = None
    rfm_group: str | None = None
    lifecycle: str | None = None
    spend_percentile: int | None = None
    money: tuple[MoneyTotal, ...] = ()
    categories: tuple[str, ...] = ()
    product_types: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    shops: tuple[str, ...] = ()
    shop_tags: tuple[str, ...] = ()
    discount_codes: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    attributes: Mapping[str, AttributeValue] = {}


def find_person_id(conn: Connection, pipeline: str, email: str) -> str | None:
    """The key of the person of ``pipeline`` whose current email is ``email`` (normalised), if any."""
    query = select(persons.c.person_id).where(persons.c.pipeline == pipeline, persons.c.email == email)
    return conn.execute(query).scalar_one_or_none()


def _number(value: float) -> Decimal:
    number = Decimal(repr(value))
    return Decimal(int(number)) if number == number.to_integral_value() else number


def get_profile(conn: Connection, pipeline: str, person_id: str) -> Profile | None:
    """The profile of one person, or ``None`` when ``pipeline`` has no such person."""
    person = conn.execute(
        select(persons).where(persons.c.pipeline == pipeline, persons.c.person_id == person_id)
    ).mappings().first()
    if person is None:
        return None
    return read_profiles(conn, [person])[0]


def iter_profiles(conn: Connection, pipeline: str, *, only: Collection[str] | None = None,
                  batch: int = PROFILE_BATCH, sets: Collection[str] = SET_NAMES) -> Iterator[list[tuple[int, Profile]]]:
    """Every profile of ``pipeline`` (or those whose ``person_id`` is in ``only``), a batch at a time.

    Batches are read by key ranges of ``persons.id``, so memory stays flat whatever the base's size;
    each item is ``(persons.id, profile)``. ``sets``: which set-valued facts to read (the others
    stay empty), since a plan needs only a few of them.
    """
    if only is not None:
        for chunk in chunked(sorted(set(only)), batch):
            rows = conn.execute(select(persons).where(persons.c.pipeline == pipeline, persons.c.person_id.in_(chunk))
                                .order_by(persons.c.id)).mappings().all()
            if rows:
                yield list(zip((r["id"] for r in rows), read_profiles(conn, rows, sets), strict=True))
        return
    last = -1
    while True:
        rows = conn.execute(select(persons).where(persons.c.pipeline == pipeline, persons.c.id > last)
                            .order_by(persons.c.id).limit(batch)).mappings().all()
        if not rows:
            return
        last = rows[-1]["id"]
        yield list(zip((r["id"] for r in rows), read_profiles(conn, rows, sets), strict=True))


def read_profiles(conn: Connection, person_rows: Sequence[RowMapping],
                  sets: Collection[str] = SET_NAMES) -> list[Profile]:
    """The profiles of these ``persons`` rows, in their order: a handful of queries per batch.

    Profiles are built from the store's own typed columns without re-validation (the values were
    validated on their way in); a million of them would otherwise cost minutes.
    """
    wanted_sets = [name for name in SET_NAMES if name in sets]
    keys = [row["id"] for row in person_rows]
    linked: dict[int, list[str]] = defaultdict(list)
    for key, source_id in conn.execute(
        select(person_customers.c.person, customers.c.source_id)
        .join(customers, person_customers.c.customer_id == customers.c.id)
        .where(person_customers.c.person.in_(keys)).order_by(customers.c.source_id)
    ):
        linked[key].append(source_id)
    guests: dict[int, list[str]] = defaultdict(list)
    for key, email in conn.execute(select(person_guests.c.person, person_guests.c.email)
                                   .where(person_guests.c.person.in_(keys)).order_by(person_guests.c.email)):
        guests[key].append(email)
    metrics = {row["person"]: row for row in
               conn.execute(select(profile_metrics).where(profile_metrics.c.person.in_(keys))).mappings()}
    money: dict[int, list[MoneyTotal]] = defaultdict(list)
    for m in conn.execute(select(profile_money).where(profile_money.c.person.in_(keys))
                          .order_by(profile_money.c.currency)):
        money[m.person].append(MoneyTotal(currency=m.currency, orders=m.orders, total_spent=m.total_spent))
    values: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    if wanted_sets:
        for name, key, value in conn.execute(
            select(profile_values.c.name, profile_values.c.person, profile_values.c.value)
            .where(profile_values.c.name.in_(wanted_sets), profile_values.c.person.in_(keys))
        ):
            values[key][name].append(value)
    attributes: dict[int, dict[str, AttributeValue]] = defaultdict(dict)
    for attribute in conn.execute(select(profile_attributes).where(profile_attributes.c.person.in_(keys))):
        if attribute.value_date is not None:
            attributes[attribute.person][attribute.name] = attribute.value_date
        elif attribute.value_number is not None:
            attributes[attribute.person][attribute.name] = _number(attribute.value_number)
        elif attribute.value_text is not None:
            attributes[attribute.person][attribute.name] = attribute.value_text
    out = []
    for person in person_rows:
        key = person["id"]
        fields: dict[str, object] = {
            "person_id": person["person_id"], "email": person["email"], "previous_email": person["previous_email"],
            "customer_ids": tuple(linked.get(key, ())), "guest_emails": tuple(guests.get(key, ())), "as_of": None,
        }
        row = metrics.get(key)
        if row is not None:
            fields.update({k: v for k, v in row.items()
                           if k not in ("person", "pipeline") and not k.startswith("cart_")})
            if row["cart_value"] is not None:
                fields["cart"] = OpenCart(
                    value=row["cart_value"], currency=row["cart_currency"],
                    value_reporting=row["cart_value_reporting"], items=row["cart_items"],
                    recovery_url=row["cart_recovery_url"], abandoned_at=row["cart_abandoned_at"],
                )
        fields["money"] = tuple(money.get(key, ()))
        person_sets = values.get(key, {})
        fields.update({name: tuple(sorted(person_sets.get(name, ()))) for name in SET_NAMES})
        fields["attributes"] = dict(sorted(attributes.get(key, {}).items()))
        if "consent_state" in fields:
            fields["consent_state"] = ConsentState(fields["consent_state"])
        out.append(Profile.model_construct(**fields))
    return out
