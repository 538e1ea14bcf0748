"""The contact state a person should have in one ESP account, and why (see :mod:`.outputs`).

:class:`ContactBuilder` turns a stored :class:`~connector.store.profiles.Profile`, the segments the
person is in (with the day they entered each), and the ESP's own view of the contact into the
desired :class:`~connector.protocols.ContactState`:

- **consent** from :func:`connector.consent.decide`: the ESP's unsubscribe or blocklist is final,
  a shop unsubscribe is propagated, only an explicit opt-in subscribes;
- **lists**: the main list, Prospects (never ordered) or Customers (ordered), and the lists of the
  segments the person is in, less what :func:`connector.consent.guard_lists` forbids: every
  managed list is a marketing list, so only consenting persons are on any of them;
- **tags**: ``Segment – <title>`` per segment (with ``tag`` on), one ``Status – <stage>``,
  ``Product – <category>`` per category bought, ``Source – <shop>`` per shop, and
  ``Trigger – Entered <title>`` while a transition is recent;
- **fields**: the configured custom fields, typed for the ESP, plus name and phone.

The same values feed ``explain``: :func:`connector.segments.why.profile_row` is the one mapping
from a profile to the values rules and fields see.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from connector.consent import ConsentDecision, decide, guard_lists
from connector.models import MarketingConsent
from connector.protocols import FIRST_NAME, LAST_NAME, PHONE, ContactState, EspContact, FieldValue, SchemaSpec
from connector.segments.definitions import SegmentDefinitions
from connector.segments.lifecycle import STAGES
from connector.segments.outputs import stage_title
from connector.segments.why import profile_row
from connector.store.profiles import SET_NAMES, Profile

__all__ = ["ContactBuilder"]


class ContactBuilder:
    """Builds desired contact states for one ESP account (``sink``) as of ``today``."""

    def __init__(self, definitions: SegmentDefinitions, sink: str, today: date) -> None:
        self.definitions = definitions
        self.sink = sink
        self.today = today
        self.outputs = definitions.outputs_for(sink)
        self.field_types = self.outputs.field_types(definitions.catalog)
        self.segments = {segment.name: segment for segment in definitions.segments}
        self.lists = self.outputs.list_names(name for s in definitions.segments for name in s.lists)
        self.product_tags = self.outputs.product_tags and definitions.library.categories
        # The set-valued facts a contact needs (a plan reads only these).
        self.sets = frozenset(
            {"categories"} if self.product_tags else set()) | ({"shops"} if self.outputs.source_tags else set()) | {
            spec.source for spec in self.outputs.fields.values() if spec.source in SET_NAMES}

    def schema(self, categories: set[str] | frozenset[str] = frozenset(), shops: tuple[str, ...] = ()) -> SchemaSpec:
        """The lists, tags and fields to provision: every tag a person could get, for these categories and shops."""
        o = self.outputs
        tags: set[str] = set()
        if o.segment_tags:
            tags |= {o.tag(o.segment_tag_category, s.title) for s in self.segments.values() if s.tag}
        if o.status_tags:
            tags |= {o.tag(o.status_tag_category, stage_title(stage)) for stage in STAGES}
        if self.product_tags:
            tags |= {o.tag(o.product_tag_category, c) for c in categories}
        if o.source_tags:
            tags |= {o.tag(o.source_tag_category, shop) for shop in shops}
        tags |= {o.tag(o.transition_tag_category, f"Entered {self.segments[t].title}") for t in o.transitions}
        return SchemaSpec(
            lists=self.lists, tags=frozenset(tags),
            fields={name: kind for name, (kind, _) in self.field_types.items()},
            options={name: options for name, (_, options) in self.field_types.items() if options},
        )

    def build(
        self,
        profile: Profile,
        members: Mapping[str, date],
        esp: EspContact | None = None,
        pushed: ContactState | None = None,
    ) -> tuple[ContactState, ConsentDecision]:
        """The desired state of ``profile``'s contact, and the consent decision behind its lists.

        Args:
            members: the segments the person is in now, each with the day they entered it.
            esp: what the ESP reported about the contact (its unsubscribes are final).
            pushed: what was last pushed (a record without consent evidence keeps an earlier opt-in).
        """
        o = self.outputs
        shop_consent = MarketingConsent(state=profile.consent_state, updated_at=profile.consent_at,
                                        source=profile.consent_source or "default")
        decision = decide(shop_consent, esp, sink=self.sink, pushed=pushed)
        wanted = {o.main_list, o.customers_list if profile.orders_count > 0 else o.prospects_list}
        for name in members:
            segment = self.segments.get(name)
            if segment is not None:
                wanted.update(segment.lists)
        lists = guard_lists((w for w in wanted if w), decision, esp, marketing=self.lists)

        tags: set[str] = set()
        for name, since in members.items():
            segment = self.segments.get(name)
            if segment is None:
                continue
            if o.segment_tags and segment.tag:
                tags.add(o.tag(o.segment_tag_category, segment.title))
            if name in o.transitions and (self.today - since).days < o.transition_days:
                tags.add(o.tag(o.transition_tag_category, f"Entered {segment.title}"))
        if o.status_tags and profile.lifecycle:
            tags.add(o.tag(o.status_tag_category, stage_title(profile.lifecycle)))
        if self.product_tags:
            tags.update(o.tag(o.product_tag_category, category) for category in profile.categories
                        if category.strip())
        if o.source_tags:
            tags.update(o.tag(o.source_tag_category, shop) for shop in profile.shops)

        row = profile_row(profile, self.today)
        fields: dict[str, FieldValue] = {}
        for name, (kind, _) in self.field_types.items():
            source = o.fields[name].source
            value = row.get(source)
            fields[name] = stage_title(value) if source == "lifecycle" and value else _typed(value, kind)
        if o.names:
            fields[FIRST_NAME] = profile.first_name or None
            fields[LAST_NAME] = profile.last_name or None
        if o.phone:
            fields[PHONE] = profile.phone or None
        # Built without re-validation: the email was validated and normalized when the shop's record
        # entered the store, and every other value is typed above (validating a million contacts'
        # emails again would cost minutes).
        state = ContactState.model_construct(email=profile.email, fields=fields, tags=frozenset(tags),
                                             lists=lists, consent=decision.state)
        return state, decision


def _typed(value: Any, kind: str) -> FieldValue:
    """A profile value as the ESP field of type ``kind`` holds it (``None``: empty)."""
    if value is None or value == "":
        return None
    if kind == "multiselect":
        items = value if isinstance(value, tuple | list | set | frozenset) else (value,)
        return tuple(sorted(str(item) for item in items)) or None
    if isinstance(value, tuple | list | set | frozenset):
        return ", ".join(sorted(str(item) for item in value)) or None
    if kind == "date":
        if isinstance(value, datetime):
            return value.astimezone(UTC).date()
        return value if isinstance(value, date) else None
    if kind == "number":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int | Decimal):
            return value
        return Decimal(repr(value)) if isinstance(value, float) else None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
