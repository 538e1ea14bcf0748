"""From stored records to the plan for one ESP account, end to end, on a small base worked out by hand.

Every expected list, tag, field and consent below is derived in the comments from the records the
test writes. Reporting currency EUR (USD 0.5, GBP 1.25). SQLite and PostgreSQL (``store_url``).
The pipeline's steps are called as the pipeline runner will: identities, metrics, memberships, plan.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from test_metrics import at, customer, line, order

from connector.clock import ManualClock
from connector.consent import ConsentShareError
from connector.errors import ConfigError
from connector.models import ConsentState, MarketingConsent
from connector.protocols import ContactChange, EspContact
from connector.segments.definitions import SegmentDefinitions, load_definitions
from connector.segments.desired import ContactBuilder
from connector.segments.membership import BASELINE
from connector.segments.rules import RuleError
from connector.store import Store

pytest_plugins = ["conftest_store"]

PIPELINE = "main"
SHOPS = ("acme", "beta")
SINK = "newsletter"
DAY0 = date(2024, 4, 8)

CONFIG = {
    "reporting_currency": "EUR",
    "rates": {"USD": "0.5", "GBP": "1.25"},
    "library": {"best_customers": "off", "birthday_this_month": False},
    "segments": {"vip": {"rule": 'total_spent >= 150 and country in ["FR", "BE"]', "title": "VIP",
                         "lists": ["VIP"]}},
    "outputs": {
        "fields": {"Total spent": {"source": "total_spent"}, "Lifecycle stage": {"source": "lifecycle"},
                   "Last order date": {"source": "last_order_date"}},
        "transitions": ["inactive_6_months"],
    },
}


def subscribed(day: str) -> MarketingConsent:
    return MarketingConsent(state=ConsentState.SUBSCRIBED, updated_at=at(day), source="shopify:emailMarketingConsent")


def write_base(store: Store) -> None:
    store.upsert_customers([
        # Ann: two shops, one email; acme:1 is the most recently updated, so its name and country win.
        customer("acme:1", "ann@example.com", updated="2024-01-05", consent=subscribed("2024-01-05"),
                 first_name="Ann", address={"country": "FR", "city": "Lyon"}),
        customer("beta:1", "ann@example.com", created="2023-06-01", updated="2024-01-02"),
        customer("acme:2", "bob@example.com", consent=subscribed("2024-02-01"), address={"country": "BE"}),
        customer("acme:3", "cat@example.com", consent=MarketingConsent(
            state=ConsentState.UNSUBSCRIBED, updated_at=at("2024-03-01"), source="shopify:emailMarketingConsent")),
        customer("acme:4", "dan@example.com", consent=subscribed("2024-01-01")),
        customer("acme:5", "eve@example.com", consent=subscribed("2024-01-01")),
        customer("acme:6", "fay@example.com"),
    ])
    store.upsert_orders([
        order("acme:a1", customer="acme:1", total="100", created="2024-03-20 10:00", lines=[line("Tee", 1,
              category="Apparel")]),
        order("acme:a2", customer="acme:1", total="80", refunded="20", currency="USD", financial="partially_refunded",
              created="2024-03-25 10:00", lines=[line("Mug", 1, category="Home")]),
        order("beta:a3", customer="beta:1", total="40", currency="GBP", created="2024-03-30 10:00",
              lines=[line("Vase", 1, category="Home")]),
        order("acme:a4", customer="acme:1", total="500", status="cancelled", financial="voided",
              cancelled="2024-03-21 10:00", lines=[line("Sofa", 1, category="Furniture")]),
        order("acme:c1", customer="acme:3", total="30", created="2023-09-01 10:00",
              lines=[line("Mug", 1, category="Home")]),
        # 23:30 in New York on 7 April is 04:30 UTC on 8 April: a UTC day of 2024-04-08.
        order("acme:e1", customer="acme:5", total="200", created="2024-04-07T23:30:00-04:00"),
        order("acme:f1", customer="acme:6", total="50", created="2023-10-12 10:00"),
    ])


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at("2024-04-08 06:00"))


@pytest.fixture
def store(store_url: str, clock: ManualClock) -> Iterator[Store]:
    with Store.open(store_url, clock=clock) as opened:
        yield opened


@pytest.fixture
def definitions() -> SegmentDefinitions:
    return SegmentDefinitions.build(CONFIG)


def refresh(store: Store, definitions: SegmentDefinitions, today: date) -> ContactBuilder:
    store.resolve_identities(PIPELINE, SHOPS, exclude_staff=True, exclude_test_orders=True)
    store.compute_metrics(PIPELINE, today=today, rates=definitions.currency.rates,
                          reporting_currency=definitions.currency.reporting_currency, exclude_test_orders=True,
                          shops=SHOPS, lifecycle=definitions.lifecycle)
    store.refresh_memberships(PIPELINE, list(definitions.segments), today=today)
    return ContactBuilder(definitions, SINK, today)


def by_email(changes: tuple[ContactChange, ...]) -> dict[str, ContactChange]:
    return {change.email: change for change in changes}


def confirm(store: Store, changes: tuple[ContactChange, ...]) -> None:
    """What a sink does once the ESP confirmed: record each desired state as pushed."""
    store.record_pushed(SINK, [(c.person_id, c.desired, f"c-{c.person_id[:6]}") for c in changes])


def test_the_first_plan_holds_every_persons_lists_tags_fields_and_consent(store: Store,
                                                                           definitions: SegmentDefinitions) -> None:
    write_base(store)
    # Dan is blocklisted in the ESP; Eve unsubscribed from its Customers list only.
    store.record_esp_contacts(SINK, [
        EspContact(email="dan@example.com", blocklisted=True),
        EspContact(email="eve@example.com", unsubscribed_lists=frozenset({"Customers"})),
    ])
    builder = refresh(store, definitions, DAY0)
    plan, summary, consent = store.plan(PIPELINE, builder)
    changes = by_email(plan.changes)
    assert set(changes) == {f"{n}@example.com" for n in ("ann", "bob", "cat", "dan", "eve", "fay")}
    assert all(c.create for c in plan.changes)

    # Ann: 100 EUR + (80 - 20) USD x 0.5 + 40 GBP x 1.25 = 180 EUR in 3 orders (the cancelled one is
    # not counted); first order 19 days ago (< 30: new); FR and 180 >= 150: VIP; 3 orders: loyal.
    ann = changes["ann@example.com"].desired
    assert ann.tags == {"Segment – Loyal", "Segment – New customer", "Segment – VIP", "Status – New customer",
                        "Product – Apparel", "Product – Home", "Source – acme", "Source – beta"}
    assert ann.lists == {"Newsletter", "Customers", "VIP"}
    assert ann.consent is ConsentState.SUBSCRIBED
    assert dict(ann.fields) == {"Total spent": Decimal(180), "Lifecycle stage": "New customer",
                                "Last order date": date(2024, 3, 30), "first_name": "Ann", "last_name": None,
                                "phone": None}

    # Bob: subscribed, never ordered: a prospect on the Prospects list; BE but 0 spent: not VIP.
    bob = changes["bob@example.com"].desired
    assert bob.tags == {"Segment – Subscriber, never ordered", "Status – Prospect", "Source – acme"}
    assert bob.lists == {"Newsletter", "Prospects"}
    assert (bob.fields["Total spent"], bob.fields["Lifecycle stage"], bob.fields["Last order date"]) == (
        Decimal(0), "Prospect", None)

    # Cat: unsubscribed at the shop (propagated: no list); one order 220 days ago: inactive 6 months.
    # The segment is evaluated for the first time, so her membership is a baseline: no Trigger tag.
    cat = changes["cat@example.com"].desired
    assert cat.tags == {"Segment – Inactive 6 months", "Segment – One-time buyer", "Segment – Unsubscribed",
                        "Status – Inactive", "Product – Home", "Source – acme"}
    assert (cat.lists, cat.consent) == (frozenset(), ConsentState.UNSUBSCRIBED)
    assert changes["cat@example.com"].consent is ConsentState.UNSUBSCRIBED

    # Dan: subscribed at the shop but blocklisted in the ESP: the ESP's word is final.
    dan = changes["dan@example.com"].desired
    assert (dan.lists, dan.consent) == (frozenset(), ConsentState.UNSUBSCRIBED)
    assert dan.tags == {"Segment – Subscriber, never ordered", "Status – Prospect", "Source – acme"}

    # Eve: ordered at 23:30 New York time = 8 April UTC (today): new, one-time; no country: not VIP.
    # She left the Customers list in the ESP, so only the Newsletter list remains.
    eve = changes["eve@example.com"].desired
    assert eve.lists == {"Newsletter"}
    assert eve.tags == {"Segment – New customer", "Segment – One-time buyer", "Status – New customer",
                        "Source – acme"}
    assert eve.fields["Last order date"] == date(2024, 4, 8)

    # Fay: no consent evidence; one order 179 days ago: at risk, not yet inactive 6 months.
    fay = changes["fay@example.com"].desired
    assert (fay.lists, fay.consent) == (frozenset(), ConsentState.NOT_SUBSCRIBED)
    assert fay.tags == {"Segment – One-time buyer", "Status – At risk", "Source – acme"}

    assert (summary.contacts, summary.creates, summary.updates) == (6, 6, 0)
    assert summary.lists_subscribed == {"Customers": 1, "Newsletter": 3, "Prospects": 1, "VIP": 1}
    assert summary.tags_added["Source – acme"] == 6
    assert consent == {"Customers": (1, 0), "Newsletter": (3, 0), "Prospects": (1, 0), "VIP": (1, 0)}


def test_once_confirmed_planning_again_gives_nothing(store: Store, definitions: SegmentDefinitions) -> None:
    write_base(store)
    builder = refresh(store, definitions, DAY0)
    plan, _, _ = store.plan(PIPELINE, builder)
    confirm(store, plan.changes)
    again, summary, _ = store.plan(PIPELINE, refresh(store, definitions, DAY0))
    assert again.changes == () and summary.contacts == 0
    assert again.basis != plan.basis  # something was pushed in between: the first plan is now stale


def test_the_date_alone_moves_time_based_segments_and_transition_tags(store: Store,
                                                                      definitions: SegmentDefinitions) -> None:
    write_base(store)
    plan, _, _ = store.plan(PIPELINE, refresh(store, definitions, DAY0))
    confirm(store, plan.changes)

    # 9 April: Fay's only order (12 October) is 180 days old: she enters "Inactive 6 months", a real
    # transition now that the segment was evaluated before, so she gets the Trigger tag; her stage
    # moves from at risk to inactive. Nobody else changes (Ann's first order is 20 days old: new).
    day1 = date(2024, 4, 9)
    plan, _, _ = store.plan(PIPELINE, refresh(store, definitions, day1))
    (fay,) = plan.changes
    assert fay.email == "fay@example.com" and not fay.create
    assert fay.tags_add == {"Segment – Inactive 6 months", "Status – Inactive", "Trigger – Entered Inactive 6 months"}
    assert fay.tags_remove == {"Status – At risk"}
    assert dict(fay.fields) == {"Lifecycle stage": "Inactive"}
    confirm(store, plan.changes)

    # 22 April: Ann's first order is 33 days old: no longer new but active; Eve's 14 days: still new.
    # Fay's Trigger tag has been on for 13 days (> 7): it comes off, so it can fire again next time.
    plan, _, _ = store.plan(PIPELINE, refresh(store, definitions, date(2024, 4, 22)))
    changes = by_email(plan.changes)
    assert set(changes) == {"ann@example.com", "fay@example.com"}
    ann = changes["ann@example.com"]
    assert (ann.tags_add, ann.tags_remove) == ({"Status – Active customer"},
                                               {"Segment – New customer", "Status – New customer"})
    assert dict(ann.fields) == {"Lifecycle stage": "Active customer"}
    assert (changes["fay@example.com"].tags_add, changes["fay@example.com"].tags_remove) == (
        frozenset(), {"Trigger – Entered Inactive 6 months"})


def test_membership_history_records_baseline_entries_and_exits(store: Store, definitions: SegmentDefinitions) -> None:
    from sqlalchemy import select

    from connector.store.schema import persons, segment_history, segment_members

    write_base(store)
    counts = {c.segment: c for c in store.refresh_memberships(PIPELINE, list(refresh(
        store, definitions, DAY0).definitions.segments), today=DAY0)}
    assert (counts["vip"].size, counts["vip"].entered, counts["vip"].left) == (1, 0, 0)  # already in: no change
    refresh(store, definitions, date(2024, 4, 9))
    refresh(store, definitions, date(2024, 4, 22))
    with store.engine.connect() as conn:
        fay = conn.execute(select(persons.c.id).where(persons.c.email == "fay@example.com")).scalar_one()
        ann = conn.execute(select(persons.c.id).where(persons.c.email == "ann@example.com")).scalar_one()
        h = segment_history.c
        events = conn.execute(select(h.person, h.segment, h.event, h.day).where(h.person.in_([fay, ann]))
                              .order_by(h.day, h.segment)).all()
        since = conn.execute(select(segment_members.c.since).where(
            segment_members.c.person == ann, segment_members.c.segment == "vip")).scalar_one()
    assert [(p == ann, s, e, d) for p, s, e, d in events] == [
        (True, "loyal", "baseline", DAY0), (True, "new_customers", "baseline", DAY0),
        (False, "one_time_buyers", "baseline", DAY0), (True, "vip", "baseline", DAY0),
        (False, "inactive_6_months", "entered", date(2024, 4, 9)),
        (True, "new_customers", "left", date(2024, 4, 22)),
    ]
    assert since == BASELINE


def test_an_email_change_at_the_shop_updates_the_same_contact(store: Store, definitions: SegmentDefinitions) -> None:
    write_base(store)
    plan, _, _ = store.plan(PIPELINE, refresh(store, definitions, DAY0))
    confirm(store, plan.changes)
    bob_id = by_email(plan.changes)["bob@example.com"].person_id
    store.upsert_customers([customer("acme:2", "bob.new@example.com", updated="2024-04-08 05:00",
                                     consent=subscribed("2024-02-01"), address={"country": "BE"})])
    plan, summary, _ = store.plan(PIPELINE, refresh(store, definitions, DAY0))
    (bob,) = plan.changes
    assert (bob.person_id, bob.email, bob.previous_email, bob.create) == (
        bob_id, "bob.new@example.com", "bob@example.com", False)
    assert not (bob.tags_add or bob.tags_remove or bob.lists_subscribe or bob.lists_unsubscribe)
    assert summary.email_changes == 1 and summary.creates == 0


def test_an_esp_unsubscribe_is_final_and_hand_added_tags_are_never_removed(
        store: Store, definitions: SegmentDefinitions) -> None:
    write_base(store)
    plan, _, _ = store.plan(PIPELINE, refresh(store, definitions, DAY0))
    confirm(store, plan.changes)
    # Ann unsubscribes from the Newsletter list in the ESP; the shop still says subscribed.
    # The ESP also shows a tag a marketer added by hand: it is in no state we pushed.
    store.record_esp_contacts(SINK, [EspContact(email="ann@example.com", unsubscribed_lists=frozenset({"Newsletter"}),
                                                subscribed_lists=frozenset({"Customers", "VIP"}))])
    plan, _, _ = store.plan(PIPELINE, refresh(store, definitions, DAY0), force=True)
    (ann,) = plan.changes
    assert (ann.lists_unsubscribe, ann.lists_subscribe, ann.tags_remove) == ({"Newsletter"}, frozenset(), frozenset())
    assert ann.desired.lists == {"Customers", "VIP"} and ann.desired.consent is ConsentState.SUBSCRIBED
    confirm(store, plan.changes)
    # Days later, nothing in the shop changed about consent: Ann is still not put back on Newsletter.
    plan, _, _ = store.plan(PIPELINE, refresh(store, definitions, date(2024, 4, 22)))
    ann = by_email(plan.changes)["ann@example.com"]
    assert "Newsletter" not in ann.lists_subscribe and "Newsletter" not in ann.desired.lists


def test_a_plan_changing_more_than_5_percent_of_a_list_is_refused_unless_forced(
        store: Store, definitions: SegmentDefinitions) -> None:
    write_base(store)
    plan, _, _ = store.plan(PIPELINE, refresh(store, definitions, DAY0))
    confirm(store, plan.changes)
    # Newsletter holds Ann, Bob, Dan and Eve (4), Prospects Bob and Dan (2). Bob unsubscribes at the
    # shop: 1 of 4 = 25% of Newsletter and 1 of 2 = 50% of Prospects, both over 5%.
    store.upsert_customers([customer("acme:2", "bob@example.com", updated="2024-04-08 05:00", address={"country": "BE"},
                                     consent=MarketingConsent(state=ConsentState.UNSUBSCRIBED,
                                                              updated_at=at("2024-04-08 05:00"),
                                                              source="shopify:emailMarketingConsent"))])
    builder = refresh(store, definitions, DAY0)
    refusal = r"list 'Newsletter': 1 of 4 contacts \(25.0%\).*list 'Prospects': 1 of 2"
    with pytest.raises(ConsentShareError, match=refusal) as refused:
        store.plan(PIPELINE, builder, min_changes=0)  # the base is tiny: count every change
    plan, _, _ = store.plan(PIPELINE, builder)  # by default a single change never trips the guard
    assert len(plan.changes) == 1
    assert refused.value.counts == {"Newsletter": (0, 1, 4), "Prospects": (0, 1, 2)}
    plan, _, consent = store.plan(PIPELINE, builder, force=True)
    (bob,) = plan.changes
    assert bob.lists_unsubscribe == {"Newsletter", "Prospects"} and bob.consent is ConsentState.UNSUBSCRIBED
    assert consent == {"Newsletter": (0, 1), "Prospects": (0, 1)}


def test_the_schema_lists_every_managed_list_tag_and_typed_field(definitions: SegmentDefinitions) -> None:
    builder = ContactBuilder(definitions, SINK, DAY0)
    spec = builder.schema({"Home", "Apparel"}, ("acme", "beta"))
    assert spec.lists == {"Newsletter", "Prospects", "Customers", "VIP"}
    assert {"Segment – VIP", "Status – Lapsed", "Product – Home", "Source – beta",
            "Trigger – Entered Inactive 6 months"} <= spec.tags
    # Built-ins on (10 of the 13 library segments with best_customers and birthdays off and high_aov off by
    # default) + VIP = 11 segment tags; 6 status tags; 2 products; 2 sources; 1 trigger.
    assert len(spec.tags) == 11 + 6 + 2 + 2 + 1
    assert dict(spec.fields) == {"Total spent": "number", "Lifecycle stage": "dropdown", "Last order date": "date"}
    assert spec.options["Lifecycle stage"] == ("Prospect", "New customer", "Active customer", "At risk", "Inactive",
                                               "Lapsed")


def test_bad_definitions_fail_at_load_naming_the_place(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuleError, match=r"segment 'vip'.*total_spent"):
        SegmentDefinitions.build({"segments": {"vip": {"rule": 'total_spent >= "lots"'}}})
    with pytest.raises(ConfigError, match=r"library.loyal_min_order: unknown key"):
        SegmentDefinitions.build({"library": {"loyal_min_order": 3}})
    with pytest.raises(ConfigError, match=r"field 'Spend': unknown source 'total_spend'; did you mean total_spent"):
        SegmentDefinitions.build({"outputs": {"fields": {"Spend": {"source": "total_spend"}}}})
    with pytest.raises(ConfigError, match=r"transitions: unknown segment 'at_risk'"):
        SegmentDefinitions.build({"outputs": {"transitions": ["at_risk"]}})
    with pytest.raises(ConfigError, match=r"'loyal' is also a built-in"):
        SegmentDefinitions.build({"segments": {"loyal": {"rule": "orders_count >= 5"}}})
    bad = tmp_path / "segments.toml"
    bad.write_text("[segments.vip\nrule = 1\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_definitions(bad)
    assert load_definitions(tmp_path / "absent.toml").currency.reporting_currency == "EUR"


def test_per_sink_outputs_override_the_defaults() -> None:
    defs = SegmentDefinitions.build({"outputs": {"main_list": "All", "sinks": {"brevo": {"prospects_list": ""}}}})
    assert (defs.outputs_for("ac").main_list, defs.outputs_for("ac").prospects_list) == ("All", "Prospects")
    assert (defs.outputs_for("brevo").main_list, defs.outputs_for("brevo").prospects_list) == ("All", None)


def test_the_example_segments_file_loads_with_every_documented_segment() -> None:
    from pathlib import Path

    defs = load_definitions(Path(__file__).resolve().parents[1] / "config" / "segments.toml")
    names = {segment.name for segment in defs.segments}
    assert {"vip", "tshirt_fans", "no_phone_yet", "best_customers", "unsubscribed"} <= names
    assert defs.currency.rates["USD"] == Decimal("0.92") and defs.outputs.transitions == ("inactive_6_months",)
    assert len(defs.outputs.fields) == 14


def test_explaining_a_person_gives_segments_with_values_consent_history_and_the_next_change(
        store: Store, definitions: SegmentDefinitions) -> None:
    write_base(store)
    store.record_esp_contacts(SINK, [EspContact(email="dan@example.com", blocklisted=True)])
    builder = refresh(store, definitions, DAY0)
    assert store.explain_contact(PIPELINE, builder, "nobody@example.com") is None
    report = store.explain_contact(PIPELINE, builder, " Ann@Example.com ")
    assert report is not None
    reasons = {reason.segment: reason for reason in report.reasons}
    vip = reasons["vip"]
    assert vip.member and list(vip.steps) == [
        ("total_spent >= 150", Decimal(180), True), ('country in ["FR", "BE"]', "FR", True)]
    assert not reasons["one_time_buyers"].member  # orders_count == 1 saw 3
    assert {name for name, reason in reasons.items() if reason.member} == {"loyal", "new_customers", "vip"}
    assert set(report.planned.segments) == {"loyal", "new_customers", "vip"}
    assert report.planned.change is not None and report.planned.change.create  # never pushed yet
    assert (report.planned.decision.system, report.planned.decision.field) == ("shop", "shopify:emailMarketingConsent")
    assert [(e.segment, e.event) for e in report.history] == [
        ("loyal", "baseline"), ("new_customers", "baseline"), ("vip", "baseline")]
    dan = store.explain_contact(PIPELINE, builder, "dan@example.com")
    assert dan is not None and (dan.planned.decision.system, dan.planned.decision.field) == (
        f"esp:{SINK}", "blocklist")
