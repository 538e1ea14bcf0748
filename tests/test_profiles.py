"""Identity: one person per human across a pipeline's shops (connector.segments.identity).

Every expectation is worked out by hand from the records each test writes. SQLite and PostgreSQL
(``store_url``). Shops ``acme`` and ``beta`` form the pipeline ``shop``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connector.clock import ManualClock
from connector.models import Customer, Order
from connector.segments.identity import PersonMerge
from connector.store import Store

pytest_plugins = ["conftest_store"]  # store_url: SQLite, and PostgreSQL when configured

PIPELINE = "shop"
SHOPS = ("acme", "beta")


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def customer(ref: str, email: str, *, updated: str = "2024-01-01", staff: bool = False) -> Customer:
    return Customer(id=f"shopify:{ref}", email=email, created_at=at("2023-01-01"), updated_at=at(updated),
                    is_staff=staff)


def guest_order(ref: str, email: str, *, test: bool = False) -> Order:
    return Order(id=f"shopify:{ref}", email=email, status="completed", financial_status="paid", currency="EUR",
                 total=Decimal(10), created_at=at("2024-02-01"), updated_at=at("2024-02-01"), test=test)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url, clock=ManualClock(at("2024-06-01"))) as opened:
        yield opened


def resolve(store: Store, **options: object):  # noqa: ANN201 - the report
    return store.resolve_identities(PIPELINE, SHOPS, **options)  # type: ignore[arg-type]


def person_of(store: Store, email: str) -> str:
    person_id = store.find_person_id(PIPELINE, email)
    assert person_id is not None, email
    return person_id


def test_a_person_in_two_shops_keeps_one_key_across_an_email_change(store: Store) -> None:
    store.upsert_customers([customer("acme:1", "ann@old.example")])
    report = resolve(store)
    assert (report.persons_created, report.customers_linked, report.email_changes) == (1, 1, 0)
    ann = person_of(store, "ann@old.example")
    assert ann.startswith("prs_") and len(ann) == 4 + 20 and int(ann[4:], 16) >= 0

    # The shop changes her email: the same person takes it and remembers the old one.
    store.upsert_customers([customer("acme:1", "ann@new.example", updated="2024-02-01")])
    report = resolve(store)
    assert (report.persons_created, report.email_changes, report.merges) == (0, 1, ())
    profile = store.get_profile(PIPELINE, ann)
    assert profile is not None
    assert (profile.email, profile.previous_email) == ("ann@new.example", "ann@old.example")
    assert store.find_person_id(PIPELINE, "ann@old.example") is None

    # The second shop's customer with the new email is the same human.
    store.upsert_customers([customer("beta:7", "ann@new.example")])
    report = resolve(store)
    assert (report.persons_created, report.customers_linked) == (0, 1)
    profile = store.get_profile(PIPELINE, ann)
    assert profile is not None and profile.customer_ids == ("shopify:acme:1", "shopify:beta:7")
    assert store.count("persons") == 1

    # Resolving again changes nothing: the beta customer's email is the person's, and acme's
    # recorded email is its current one.
    report = resolve(store)
    assert (report.persons_created, report.customers_linked, report.email_changes) == (0, 0, 0)


def test_an_email_already_held_by_another_person_merges_them_into_the_older(store: Store) -> None:
    store.upsert_customers([customer("acme:1", "ann@example.com")])
    resolve(store)  # ann first: the older person
    store.upsert_customers([customer("acme:2", "bob@example.com")])
    store.upsert_orders([guest_order("acme:g1", "bob.guest@example.com")])
    resolve(store)
    ann, bob = person_of(store, "ann@example.com"), person_of(store, "bob@example.com")
    bob_guest = person_of(store, "bob.guest@example.com")
    # bob's account moves to ann's address: one human, the older person (ann's) stays.
    store.upsert_customers([customer("acme:2", "ann@example.com", updated="2024-03-01")])
    report = resolve(store)
    assert report.merges == (PersonMerge(kept=ann, dropped=bob),)
    assert store.get_profile(PIPELINE, bob) is None
    profile = store.get_profile(PIPELINE, ann)
    assert profile is not None
    assert profile.customer_ids == ("shopify:acme:1", "shopify:acme:2")
    assert (profile.email, profile.previous_email) == ("ann@example.com", None)
    assert store.count("persons") == 2  # ann, and the guest checkout's own person
    assert store.get_profile(PIPELINE, bob_guest) is not None


def test_a_merge_keeps_the_older_person_whichever_side_moved(store: Store) -> None:
    store.upsert_customers([customer("acme:1", "ann@example.com")])
    resolve(store)
    store.upsert_customers([customer("beta:2", "bob@example.com")])
    resolve(store)
    ann, bob = person_of(store, "ann@example.com"), person_of(store, "bob@example.com")
    # Now the older person's customer takes the younger one's email.
    store.upsert_customers([customer("acme:1", "bob@example.com", updated="2024-03-01")])
    report = resolve(store)
    assert report.merges == (PersonMerge(kept=ann, dropped=bob),)
    profile = store.get_profile(PIPELINE, ann)
    assert profile is not None
    assert (profile.email, profile.previous_email) == ("bob@example.com", "ann@example.com")
    assert profile.customer_ids == ("shopify:acme:1", "shopify:beta:2")


def test_two_persons_swapping_emails_stay_two_persons(store: Store) -> None:
    store.upsert_customers([customer("acme:1", "ann@example.com"), customer("acme:2", "bob@example.com")])
    resolve(store)
    ann, bob = person_of(store, "ann@example.com"), person_of(store, "bob@example.com")
    store.upsert_customers([customer("acme:1", "bob@example.com", updated="2024-03-01"),
                            customer("acme:2", "ann@example.com", updated="2024-03-01")])
    report = resolve(store)
    assert (report.email_changes, report.merges) == (2, ())
    assert (person_of(store, "bob@example.com"), person_of(store, "ann@example.com")) == (ann, bob)


def test_new_customers_sharing_an_email_make_one_person(store: Store) -> None:
    store.upsert_customers([customer("acme:1", "cat@example.com"), customer("beta:1", "cat@example.com")])
    report = resolve(store)
    assert (report.persons_created, report.customers_linked) == (1, 2)


def test_guest_checkouts_are_persons_by_email_unless_a_customer_has_it(store: Store) -> None:
    store.upsert_customers([customer("acme:1", "ann@example.com")])
    store.upsert_orders([guest_order("acme:g1", "ann@example.com"), guest_order("acme:g2", "gus@example.com"),
                         guest_order("beta:g3", "gus@example.com")])
    report = resolve(store)
    # ann's guest order joins her person; gus, with no account, gets one person for both orders.
    assert (report.persons_created, report.guest_emails_linked) == (2, 2)
    ann = store.get_profile(PIPELINE, person_of(store, "ann@example.com"))
    gus = store.get_profile(PIPELINE, person_of(store, "gus@example.com"))
    assert ann is not None and gus is not None
    assert (ann.customer_ids, ann.guest_emails) == (("shopify:acme:1",), ("ann@example.com",))
    assert (gus.customer_ids, gus.guest_emails) == ((), ("gus@example.com",))
    # gus opens an account later: the same person.
    store.upsert_customers([customer("beta:9", "gus@example.com")])
    report = resolve(store)
    assert report.persons_created == 0
    gus_again = store.get_profile(PIPELINE, gus.person_id)
    assert gus_again is not None and gus_again.customer_ids == ("shopify:beta:9",)


def test_staff_accounts_and_test_orders_are_left_out_when_configured(store: Store) -> None:
    store.upsert_customers([customer("acme:1", "staff@example.com", staff=True),
                            customer("acme:2", "ann@example.com")])
    store.upsert_orders([guest_order("acme:g1", "staff@example.com"),  # the staff member checking out as a guest
                         guest_order("acme:g2", "tester@example.com", test=True)])
    report = resolve(store, exclude_staff=True, exclude_test_orders=True)
    assert report.persons_created == 1
    assert store.find_person_id(PIPELINE, "staff@example.com") is None
    assert store.find_person_id(PIPELINE, "tester@example.com") is None

    # Without the exclusions they are persons; turning them back on removes them again.
    resolve(store)
    staff, tester = person_of(store, "staff@example.com"), person_of(store, "tester@example.com")
    report = resolve(store, exclude_staff=True, exclude_test_orders=True)
    assert report.removed == tuple(sorted((staff, tester)))
    assert store.count("persons") == 1


def test_incremental_resolution_touches_only_the_changed_customers(store: Store) -> None:
    store.upsert_customers([customer("acme:1", "ann@example.com"), customer("acme:2", "bob@example.com")])
    assert resolve(store).touched is None  # a full run: everyone is to be recomputed
    ann, bob = person_of(store, "ann@example.com"), person_of(store, "bob@example.com")
    store.upsert_customers([customer("acme:1", "ann@new.example", updated="2024-02-01"),
                            customer("beta:3", "cat@example.com")])
    report = resolve(store, changed_customer_ids=["shopify:beta:3"])
    cat = person_of(store, "cat@example.com")
    assert report.touched == (cat,)
    assert person_of(store, "ann@example.com") == ann  # acme:1 was not in the change set: not looked at

    report = resolve(store, changed_customer_ids=["shopify:acme:1", "shopify:acme:404"])  # 404: not stored
    assert (report.touched, report.email_changes) == ((ann,), 1)
    assert person_of(store, "ann@new.example") == ann
    store.upsert_orders([guest_order("acme:g1", "bob@example.com"), guest_order("acme:g2", "dan@example.com")])
    report = resolve(store, changed_guest_emails=["bob@example.com", "dan@example.com"])
    dan = person_of(store, "dan@example.com")
    assert report.touched == tuple(sorted((bob, dan)))
    assert report.guest_emails_linked == 2


def test_an_incremental_merge_is_reported_and_the_kept_person_touched(store: Store) -> None:
    store.upsert_customers([customer("acme:1", "ann@example.com"), customer("beta:2", "bob@example.com")])
    resolve(store)  # one statement creates both, in the order of their first customer: ann is older
    ann, bob = person_of(store, "ann@example.com"), person_of(store, "bob@example.com")
    store.upsert_customers([customer("beta:2", "ann@example.com", updated="2024-03-01")])
    report = resolve(store, changed_customer_ids=["shopify:beta:2"])
    assert report.merges == (PersonMerge(kept=ann, dropped=bob),)
    assert report.touched == (ann,)
    assert store.count("persons") == 1
