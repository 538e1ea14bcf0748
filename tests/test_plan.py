"""The diff between the desired and the last pushed contact state, worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from connector.models import ConsentState
from connector.plan import diff, diff_all
from connector.protocols import ContactState

PERSON = "p:1"


def state(**changes: object) -> ContactState:
    data: dict[str, object] = {"email": "ada@example.com", "fields": {"total_spent": Decimal("120.50"),
                                                                      "city": "Paris"},
                               "tags": frozenset({"Segment – VIP", "Status – Customer"}),
                               "lists": frozenset({"Newsletter"}), "consent": ConsentState.SUBSCRIBED}
    return ContactState.model_validate({**data, **changes})


def reloaded(value: ContactState) -> ContactState:
    """What the store gives back after recording it as pushed (canonical JSON, types lost)."""
    return ContactState.model_validate_json(value.canonical_json())


def test_a_new_contact_is_created_with_its_non_empty_fields_tags_lists_and_consent() -> None:
    desired = state(fields={"total_spent": Decimal("120.50"), "city": "Paris", "birthday": None})
    change = diff(PERSON, desired, None)
    assert change is not None and change.create
    assert dict(change.fields) == {"city": "Paris", "total_spent": Decimal("120.50")}  # no empty birthday
    assert change.tags_add == {"Segment – VIP", "Status – Customer"} and change.tags_remove == frozenset()
    assert change.lists_subscribe == {"Newsletter"}
    assert change.consent is ConsentState.SUBSCRIBED


def test_an_unchanged_person_produces_nothing_even_after_the_store_round_trip() -> None:
    desired = state(fields={"total_spent": Decimal("120.50"), "first_order": date(2024, 3, 1), "orders": 3})
    assert diff(PERSON, desired, reloaded(desired)) is None


def test_only_what_changed_is_sent() -> None:
    pushed = reloaded(state())
    desired = state(fields={"total_spent": Decimal("180.00"), "city": "Paris"},
                    tags=frozenset({"Segment – VIP", "Status – At risk"}))
    change = diff(PERSON, desired, pushed)
    assert change is not None and not change.create
    assert dict(change.fields) == {"total_spent": Decimal("180.00")}
    assert change.tags_add == {"Status – At risk"}
    assert change.tags_remove == {"Status – Customer"}  # the old status tag goes, or both would apply
    assert change.lists_subscribe == change.lists_unsubscribe == frozenset()
    assert change.consent is None and change.previous_email is None


def test_a_field_that_became_empty_is_cleared() -> None:
    change = diff(PERSON, state(fields={"total_spent": Decimal("120.50")}), reloaded(state()))
    assert change is not None and dict(change.fields) == {"city": None}


def test_unsubscribe_and_email_change() -> None:
    desired = state(email="ada.l@example.org", lists=frozenset(), consent=ConsentState.UNSUBSCRIBED)
    change = diff(PERSON, desired, reloaded(state()))
    assert change is not None
    assert change.previous_email == "ada@example.com" and change.email == "ada.l@example.org"
    assert change.lists_unsubscribe == {"Newsletter"}
    assert change.consent is ConsentState.UNSUBSCRIBED


def test_a_hand_added_tag_is_never_removed() -> None:
    # The marketer's own tag in the ESP was never part of a pushed (managed) state, so no diff can touch it.
    change = diff(PERSON, state(tags=frozenset()), reloaded(state()))
    assert change is not None and change.tags_remove == {"Segment – VIP", "Status – Customer"}
    assert "Hand – Met at fair" not in change.tags_remove


def test_diff_all_streams_only_real_changes() -> None:
    same, changed = state(), state(fields={"city": "Lyon"})
    pushed = {"p:1": reloaded(same), "p:2": reloaded(same)}
    changes = list(diff_all([("p:1", same), ("p:2", changed), ("p:3", same)], pushed))
    assert [(c.person_id, c.create) for c in changes] == [("p:2", False), ("p:3", True)]


_values = st.one_of(st.none(), st.text(max_size=8), st.integers(-10**6, 10**6), st.booleans(),
                    st.decimals(min_value=-10**6, max_value=10**6, places=2, allow_nan=False),
                    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)))
_states = st.builds(
    lambda fields, tags, lists, consent, user: ContactState(
        email=f"{user}@example.com", fields=fields, tags=frozenset(tags), lists=frozenset(lists), consent=consent),
    st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), _values, max_size=4),
    st.sets(st.sampled_from(["Segment – VIP", "Status – New", "Product – Mug"])),
    st.sets(st.sampled_from(["Newsletter", "Customers", "Prospects"])),
    st.sampled_from(list(ConsentState)),
    st.sampled_from(["ada", "bob"]),
)


@given(desired=_states, pushed=st.one_of(st.none(), _states))
def test_applying_a_change_then_planning_again_gives_nothing(desired: ContactState,
                                                             pushed: ContactState | None) -> None:
    change = diff(PERSON, desired, reloaded(pushed) if pushed else None)
    applied = reloaded(change.desired) if change is not None else reloaded(pushed or desired)
    if change is None:
        assert pushed is not None
    assert diff(PERSON, desired, applied) is None
