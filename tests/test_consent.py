"""The consent guard: who may be on a marketing list, and the refusal of mass consent changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connector.consent import ConsentShareError, check_consent_share, decide, guard_lists
from connector.models import ConsentState, MarketingConsent
from connector.protocols import ContactChange, ContactState, EspContact

AT = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
SUBSCRIBED = MarketingConsent(state=ConsentState.SUBSCRIBED, updated_at=AT, source="shopify:emailMarketingConsent")
LISTS = ("Newsletter", "Customers")


def esp(**changes: object) -> EspContact:
    return EspContact.model_validate({"email": "ada@example.com", **changes})


def test_an_esp_unsubscribe_is_final_whatever_the_shop_says() -> None:
    decision = decide(SUBSCRIBED, esp(blocklisted=True, updated_at=AT), sink="newsletter")
    assert (decision.state, decision.system, decision.field) == (ConsentState.UNSUBSCRIBED, "esp:newsletter",
                                                                 "blocklist")
    assert guard_lists(LISTS, decision, esp(blocklisted=True), marketing=LISTS) == frozenset()


def test_an_unsubscribe_from_one_list_in_the_esp_keeps_the_person_off_that_list_only() -> None:
    decision = decide(SUBSCRIBED, esp(unsubscribed_lists=frozenset({"Newsletter"})), sink="newsletter")
    assert decision.state is ConsentState.SUBSCRIBED
    allowed = guard_lists(LISTS, decision, esp(unsubscribed_lists=frozenset({"Newsletter"})), marketing=LISTS)
    assert allowed == {"Customers"}


def test_a_shop_unsubscribe_is_propagated_with_its_provenance() -> None:
    shop = MarketingConsent(state=ConsentState.UNSUBSCRIBED, updated_at=AT, source="woocommerce:meta:_newsletter_optin")
    decision = decide(shop, None, sink="newsletter")
    assert (decision.state, decision.system, decision.field, decision.at) == (
        ConsentState.UNSUBSCRIBED, "shop", "woocommerce:meta:_newsletter_optin", AT)
    assert guard_lists(LISTS, decision, None, marketing=LISTS) == frozenset()


@pytest.mark.parametrize("state", [ConsentState.PENDING, ConsentState.NOT_SUBSCRIBED])
def test_only_explicit_consent_puts_someone_on_a_marketing_list(state: ConsentState) -> None:
    decision = decide(MarketingConsent(state=state, source="shopify:emailMarketingConsent"), None, sink="n")
    assert decision.state is state and not decision.may_subscribe
    # A list that is not a marketing list (e.g. a transactional audience) is not guarded.
    assert guard_lists(["Newsletter", "Order updates"], decision, None, marketing=["Newsletter"]) == {
        "Order updates"}


def test_no_evidence_does_not_revoke_an_earlier_opt_in() -> None:
    pushed = ContactState(email="ada@example.com", lists=frozenset({"Newsletter"}), consent=ConsentState.SUBSCRIBED)
    silent = MarketingConsent(source="woocommerce:default")  # a guest order without the opt-in field
    decision = decide(silent, None, sink="n", pushed=pushed)
    assert (decision.state, decision.system) == (ConsentState.SUBSCRIBED, "pushed")
    # But an explicit "not subscribed" from a real field is not "no evidence".
    explicit = MarketingConsent(source="woocommerce:meta:_newsletter_optin")
    assert decide(explicit, None, sink="n", pushed=pushed).state is ConsentState.NOT_SUBSCRIBED
    # A record that never had a consent field at all (the model's bare default) is no evidence either.
    assert decide(MarketingConsent(), None, sink="n", pushed=pushed).state is ConsentState.SUBSCRIBED
    # And without an earlier opt-in, no evidence means not subscribed.
    assert decide(silent, None, sink="n").state is ConsentState.NOT_SUBSCRIBED


def _change(n: int, *, subscribe: set[str] = frozenset(), unsubscribe: set[str] = frozenset()) -> ContactChange:
    email = f"p{n}@example.com"
    return ContactChange(person_id=f"p:{n}", email=email, lists_subscribe=frozenset(subscribe),
                         lists_unsubscribe=frozenset(unsubscribe), desired=ContactState(email=email))


def test_a_plan_changing_more_than_5_percent_of_a_list_is_refused_with_counts() -> None:
    # 1,000 on the newsletter: 30 new subscriptions and 25 unsubscriptions = 55 = 5.5 % > 5 %.
    changes = [_change(i, subscribe={"Newsletter"}) for i in range(30)]
    changes += [_change(100 + i, unsubscribe={"Newsletter"}) for i in range(25)]
    with pytest.raises(ConsentShareError) as refused:
        check_consent_share(changes, {"Newsletter": 1000})
    message = str(refused.value)
    assert "'Newsletter': 55 of 1,000 contacts (5.5%)" in message and "30 subscribed, 25 unsubscribed" in message
    assert "--force" in message
    assert refused.value.counts == {"Newsletter": (30, 25, 1000)}
    assert check_consent_share(changes, {"Newsletter": 1000}, force=True) == {"Newsletter": (30, 25)}


def test_exactly_5_percent_and_a_first_push_pass() -> None:
    fifty = [_change(i, unsubscribe={"Newsletter"}) for i in range(50)]
    assert check_consent_share(fifty, {"Newsletter": 1000}) == {"Newsletter": (0, 50)}
    first = [_change(i, subscribe={"Customers"}) for i in range(500)]
    assert check_consent_share(first, {}) == {"Customers": (500, 0)}
