"""The plan and result models that sources, the core and sinks share."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from connector.errors import RecordError
from connector.models import FieldIssue
from connector.protocols import ContactChange, ContactState, PushResult, PushStatus, QuarantineEntry


def state(**kw: object) -> ContactState:
    return ContactState(email="jane@example.com", **kw)  # type: ignore[arg-type]


def test_canonical_json_is_order_independent_and_stable() -> None:
    a = state(tags=frozenset({"Segment – VIP", "Product – Shoes"}), lists=frozenset({"Customers"}),
              fields={"total_spent": Decimal("120.50"), "birthday": date(1990, 7, 14)})
    b = state(fields={"birthday": date(1990, 7, 14), "total_spent": Decimal("120.50")},
              lists=frozenset({"Customers"}), tags=frozenset({"Product – Shoes", "Segment – VIP"}))
    expected = ('{"consent":"not_subscribed","email":"jane@example.com",'
                '"fields":{"birthday":"1990-07-14","total_spent":"120.5"},'
                '"lists":["Customers"],"tags":["Product – Shoes","Segment – VIP"]}')
    assert a.canonical_json() == b.canonical_json() == expected
    assert a.digest() == b.digest()
    assert len(a.digest()) == 64
    # An amount is compared by value: 120.50 read back as 120.5 is the same state.
    assert a.digest() == state(tags=a.tags, lists=a.lists,
                               fields={"total_spent": Decimal("120.5"), "birthday": date(1990, 7, 14)}).digest()


def test_any_change_changes_the_digest() -> None:
    base = state(tags=frozenset({"A"}))
    assert base.digest() != state(tags=frozenset({"B"})).digest()
    assert base.digest() != state(tags=frozenset({"A"}), fields={"x": None}).digest()


def test_change_cannot_add_and_remove_the_same_tag() -> None:
    with pytest.raises(ValidationError, match="both added and removed"):
        ContactChange(person_id="p", email="jane@example.com", desired=state(),
                      tags_add=frozenset({"VIP"}), tags_remove=frozenset({"VIP"}))


def test_empty_change() -> None:
    assert ContactChange(person_id="p", email="jane@example.com", desired=state()).is_empty
    assert not ContactChange(person_id="p", email="jane@example.com", desired=state(),
                             previous_email="old@example.com").is_empty


def test_failed_push_needs_a_reason() -> None:
    with pytest.raises(ValidationError):
        PushResult(person_id="p", status=PushStatus.FAILED)
    assert PushResult(person_id="p", status=PushStatus.FAILED, reason="invalid email").reason


def test_quarantine_entries_from_errors_and_issues() -> None:
    err = RecordError(record_id="shopify:acme:1", entity="customer", field="email", reason="not valid")
    entry = QuarantineEntry.from_error(err, payload='{"id": 1}')
    assert (entry.entity, entry.record_id, entry.field, entry.action) == ("customer", "shopify:acme:1", "email",
                                                                          "rejected")
    dropped = QuarantineEntry.from_issue("customer", "shopify:acme:2", FieldIssue(field="phone", reason="bad"))
    assert dropped.action == "field_dropped"
