"""People for the data generator: who someone is (shared by every shop) and how a shop stores it.

A :class:`Person` depends only on ``(population_seed, identity index)``, so two shops drawing the
same index get the same person: the "same customer in two shops" case. How the person typed
their email and phone into one shop (stray spaces, capitals, typos, national or international
format) is drawn per shop by :func:`shop_email` and :func:`shop_phone`.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from connector.sandbox.datagen_places import COUNTRIES, City, Country, Pattern, slug
from connector.sandbox.datagen_rand import Draws, cumulative, mix64

__all__ = ["Person", "PersonDetails", "fill", "person", "shop_email", "shop_phone"]

_COUNTRY_CUM = cumulative([c.weight for c in COUNTRIES])
_CITY_CUM = tuple(cumulative([city.weight for city in c.cities]) for c in COUNTRIES)
_DOMAIN_CUM = tuple(cumulative(c.domain_weights) for c in COUNTRIES)
_INDUSTRIES = (
    "Design", "Studio", "Consulting", "Services", "Atelier", "Media", "Digital", "Events", "Bau", "Tech",
    "Logistics", "Interiors", "Creative", "Partners", "Home", "Solutions", "Print", "Garden", "Food", "Sport",
)
# Email local parts. Every freemail pattern carries digits, as addresses at big providers do, and
# most carry 3-4, so two different people rarely get the same address: at 1M people about 0.3%
# share theirs with someone (it grows with the population), between small shops practically never.
_LOCAL_PATTERNS = (
    "{f}.{l}{n2}", "{f}.{l}{n3}", "{f}{l}{yy}", "{i}{l}{n4}", "{f}_{l}{n3}", "{l}.{f}{n3}", "{f}.{l}{yyyy}",
    "{i}.{l}{n3}", "{f}{l}{n3}", "{l}{i}{n4}", "{f}.{m}.{l}{n2}", "{f}.{l}.{n3}",
)
_LOCAL_CUM = cumulative((8, 16, 4, 12, 8, 8, 3, 6, 10, 4, 8, 8))
_COMPANY_LOCALS = ("{f}.{l}", "{i}.{l}", "{f}", "{i}{l}")
_COMPANY_LOCAL_CUM = cumulative((55, 25, 12, 8))
_BIRTH_FIRST_YEAR = 1950
_BIRTH_YEARS = 57  # 1950-2006
_DETAILS_SALT = 0x5DE7A11
_TAX_RATES = tuple(
    tuple(Decimal(city.tax_percent or c.tax_percent) / 100 for city in c.cities) for c in COUNTRIES
)
_NOT_DIGITS = str.maketrans("", "", " ()-.")
_INVALID_PHONES = ("12345", "0000000000", "n/a", "123")


@dataclass(frozen=True, slots=True)
class Person:
    """One person of the population: what any record mentioning them needs (see :meth:`details`)."""

    country: Country
    home: City
    first_name: str
    last_name: str
    email: str  # canonical: lower case, valid
    city: str
    region: str
    postal_code: str
    company: str | None
    locale: str
    birth_year: int
    tax_rate: Decimal  # sales tax or VAT where they live, as a fraction
    details_seed: int  # seeds :meth:`details`

    def details(self) -> PersonDetails:
        """Phone, street address and birthday: drawn apart, since only customer records need them."""
        d = Draws(self.details_seed, 0)
        country = self.country
        phone = fill(d, d.pick(country.mobile) if d.chance(0.75) else self.home.landline)
        street = d.pick(country.streets)
        number = 1 + int(d.expo(40.0))
        address1 = f"{number} {street}" if country.number_first else f"{street} {number}"
        birthday = date.fromordinal(date(self.birth_year, 1, 1).toordinal() + d.below(365))
        return PersonDetails(phone, address1, birthday)


@dataclass(frozen=True, slots=True)
class PersonDetails:
    """The parts of a person only a customer record shows."""

    phone: str  # national format as the person would write it
    address1: str
    birthday: date


def fill(draws: Draws, pattern: Pattern) -> str:
    """A string from a compiled pattern (see :func:`connector.sandbox.datagen_places.compile_pattern`)."""
    template, choices = pattern
    picked = []
    x = draws.bits()
    room = 1 << 53
    for chars in choices:
        size = len(chars)
        if room < 1 << 20:  # fresh bits before they run thin, so every choice stays close to uniform
            x, room = draws.bits(), 1 << 53
        x, i = divmod(x, size)
        room //= size
        picked.append(chars[i])
    return template.format(*picked)


def person(base: int, index: int) -> Person:
    """Person ``index`` of the population whose :func:`~connector.sandbox.datagen_rand.kind_base` is ``base``."""
    d = Draws(base, index)
    ci = bisect_right(_COUNTRY_CUM, d.u())
    country = COUNTRIES[ci]
    fi = d.below(len(country.first_names))
    li = d.below(len(country.last_names))
    f, lname = country.first_slugs[fi], country.last_slugs[li]
    cj = bisect_right(_CITY_CUM[ci], d.u())
    city = country.cities[cj]
    postal = fill(d, d.pick(city.postal))
    year = _BIRTH_FIRST_YEAR + d.below(_BIRTH_YEARS)
    x = d.bits()
    company = None
    if d.chance(0.08):
        owner = country.last_names[d.below(len(country.last_names))]
        industry = d.pick(_INDUSTRIES)
        company = f"{owner} {industry} {d.pick(country.company_suffixes)}"
        domain = f"{slug(owner, country.code)}-{industry.lower()}{country.company_tld}"
        pattern = d.weighted(_COMPANY_LOCALS, _COMPANY_LOCAL_CUM)
    else:
        domain = d.weighted(country.domains, _DOMAIN_CUM[ci])
        pattern = d.weighted(_LOCAL_PATTERNS, _LOCAL_CUM)
    local = pattern.format(
        f=f,
        l=lname,
        i=f[:1],
        m="abcdefghijklmnoprstvw"[x % 21],
        n2=1 + (x >> 5) % 99,
        n3=100 + (x >> 12) % 900,
        n4=1000 + (x >> 22) % 9000,
        yy=f"{year % 100:02d}",
        yyyy=year,
    )
    return Person(
        country=country,
        home=city,
        first_name=country.first_names[fi],
        last_name=country.last_names[li],
        email=f"{local}@{domain}",
        city=city.name,
        region=city.region,
        postal_code=postal,
        company=company,
        locale=city.locale or country.locale,
        birth_year=year,
        tax_rate=_TAX_RATES[ci][cj],
        details_seed=mix64(base ^ index ^ _DETAILS_SALT),
    )


def shop_email(d: Draws, email: str, invalid_rate: float) -> str:
    """The email as typed into one shop: mostly as is, some with stray spaces/capitals, a few invalid."""
    u = d.u()
    if u < invalid_rate:
        local, _, domain = email.partition("@")
        kind = d.below(6)
        if kind == 0:
            return local + domain  # missing @
        if kind == 1:
            return f"{local}@@{domain}"
        if kind == 2:
            return email + "."  # trailing dot
        if kind == 3:
            return f"{local.replace('.', ' ', 1) if '.' in local else local[:2] + ' ' + local[2:]}@{domain}"
        if kind == 4:
            return f"{local}@{domain.split('.', 1)[0]}"  # no top-level domain
        return f"{local}@{domain.replace('.', ',', 1)}"
    if u < invalid_rate + 0.03:
        kind = d.below(4)
        if kind == 0:
            return email + " "
        if kind == 1:
            return " " + email
        if kind == 2:
            return email.upper()
        local, _, domain = email.partition("@")
        return f"{local.title()}@{domain.capitalize()}"
    return email


def shop_phone(d: Draws, country: Country, national: str) -> str:
    """The phone as typed into one shop: national (spaced or compact), international, E.164, or ~3% invalid."""
    u = d.u()
    if u < 0.03:
        kind = d.below(3)
        if kind == 0:
            return d.pick(_INVALID_PHONES)
        if kind == 1:
            return national[:-3]  # digits missing
        return f"+{country.calling_code} 12"
    if u < 0.58:
        return national
    digits = national.translate(_NOT_DIGITS)
    if u < 0.73:
        return digits if country.code != "FR" or d.chance(0.5) else national.replace(" ", ".")
    nsn = digits[1:] if country.trunk_zero else digits
    if u < 0.92:
        if country.calling_code == "1":
            return f"+1 {nsn[:3]}-{nsn[3:6]}-{nsn[6:]}"
        return f"+{country.calling_code} {national[1:] if country.trunk_zero else national}"
    return f"+{country.calling_code}{nsn}"
