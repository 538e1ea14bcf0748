"""From the plan's names and values to Brevo's attributes: pure functions, no I/O.

* :func:`attribute_name`: ``"Total spent"`` → ``TOTAL_SPENT``. Brevo attribute names are upper
  case; accents are dropped (``"Région"`` → ``REGION``), every run of other characters becomes
  one ``_``, and a name that would start with a digit gets an ``F_`` prefix. Two fields that map
  to one name, or a field that maps onto a built-in attribute, are a configuration error.
* :data:`ATTRIBUTE_TYPES`: a :class:`~connector.protocols.SchemaSpec` type → Brevo's normal
  attribute type. ``dropdown`` becomes ``text``: Brevo's single-choice attributes are the
  ``category`` category, whose contact values are integer codes, which neither a marketer's
  segment filter nor a merge tag reads as the label; a text attribute holds the label itself.
* :func:`encode` turns a field value into what a contact's ``attributes`` take.
* :func:`sms_number`: the phone as Brevo's ``SMS`` attribute wants it (E.164), or the reason it
  is left out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal

import phonenumbers

from connector.errors import ConfigError
from connector.protocols import FIRST_NAME, LAST_NAME, PHONE, FieldValue

__all__ = [
    "ATTRIBUTE_TYPES",
    "BUILT_IN",
    "SMS",
    "attribute_map",
    "attribute_name",
    "encode",
    "encoded_attributes",
    "sms_number",
]

SMS = "SMS"
# Attributes Brevo itself defines or reserves; a managed field must not land on one of them.
BUILT_IN = frozenset({"EMAIL", "SMS", "WHATSAPP", "LANDLINE_NUMBER", "EXT_ID", "FIRSTNAME", "LASTNAME",
                      "BLACKLIST", "READERS", "CLICKERS", "DOUBLE_OPT_IN", "OPT_IN"})
ATTRIBUTE_TYPES = {"text": "text", "number": "float", "date": "date", "dropdown": "text",
                   "multiselect": "multiple-choice"}


def attribute_name(field: str) -> str:
    """The Brevo attribute name of managed field ``field`` (see the module docstring).

    Raises:
        ConfigError: nothing of the name is left (e.g. ``"€"``).
    """
    ascii_name = unicodedata.normalize("NFKD", field).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Z0-9]+", "_", ascii_name.upper()).strip("_")
    if not name:
        raise ConfigError(f"field {field!r} has no letters or digits to make a Brevo attribute name of")
    return f"F_{name}" if name[0].isdigit() else name


def attribute_map(fields: Iterable[str], *, first_name: str, last_name: str, tags: str) -> dict[str, str]:
    """Every plan field name → its attribute name, the reserved keys included.

    Raises:
        ConfigError: two fields share an attribute, or a field lands on a built-in or the tags attribute.
    """
    mapping = {FIRST_NAME: first_name, LAST_NAME: last_name, PHONE: SMS}
    owners: dict[str, str] = {v: k for k, v in mapping.items()}
    for field in sorted(set(fields) - set(mapping)):
        name = attribute_name(field)
        if name in owners or name in BUILT_IN or name == tags:
            other = owners.get(name, "a Brevo built-in" if name != tags else "the tags attribute")
            raise ConfigError(f"fields {field!r} and {other!r} would both be the Brevo attribute {name}; rename one")
        owners[name] = field
        mapping[field] = name
    return mapping


def encode(value: FieldValue) -> str | int | float | bool | list[str]:
    """A field value as a contact attribute value; ``None`` (clear) is ``""``.

    Numbers are JSON numbers (Brevo's ``float`` attributes), dates ``YYYY-MM-DD``, multi-select
    values a list of option labels.
    """
    if value is None:
        return ""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return sorted(value)


def sms_number(value: FieldValue) -> tuple[str | None, str | None]:
    """``(number, None)`` for a phone Brevo takes as ``SMS`` (E.164), else ``(None, reason)``.

    Brevo refuses an SMS attribute that is not a valid number with its country code, and with it
    the whole contact; so such a number is left out and the rest of the contact goes on.
    """
    if value is None or value == "":
        return None, None
    text = str(value)
    try:
        parsed = phonenumbers.parse(text if text.startswith("+") else f"+{text}", None)
    except phonenumbers.NumberParseException:
        return None, "phone is not a number with a country code"
    if not phonenumbers.is_valid_number(parsed):
        return None, "phone is not a valid number for its country code"
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), None


def encoded_attributes(fields: Mapping[str, FieldValue], mapping: Mapping[str, str]) -> dict[str, object]:
    """``fields`` as an ``attributes`` object (phone excluded: see :func:`sms_number`)."""
    return {mapping[k]: encode(v) for k, v in fields.items() if k != PHONE and k in mapping}
