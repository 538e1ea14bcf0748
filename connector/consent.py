"""The consent guard: who may be on a marketing list, decided with its provenance.

Rules, in order (the first that applies decides):

1. **The ESP's unsubscribe or blocklist is final.** A contact the ESP reports as blocklisted
   (globally unsubscribed, hard-bounced, blocked) is unsubscribed, whatever the shop says; a
   contact who unsubscribed from one list in the ESP is never put back on that list. Re-subscribing
   a blocklisted contact is illegal in places (Brevo's own terms) and always ruins trust.
2. **A shop-side unsubscribe is propagated**: unsubscribed, off every marketing list.
3. **Only explicit consent subscribes**: the shop says ``subscribed``. ``pending`` (a double
   opt-in not confirmed yet) and ``not_subscribed`` are not consent.
4. **Absence of evidence revokes nothing.** A shop record that carries no consent evidence at all
   (its consent ``source`` is ``default`` or ends in ``:default``, e.g. a WooCommerce guest order
   without the opt-in field) does not undo a subscription given before: the person keeps the consent last pushed.

Every decision says which system decided, through which field, as of when, and why, so that
"why is this person (not) on the newsletter?" always has an answer.

A plan that would change the subscription of more than a share of a list (default 5 %) is
refused unless forced (:func:`check_consent_share`), once more than a few (default 10) change:
a bug or a bad import must not unsubscribe, or subscribe, a whole list in one run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from connector.errors import ConnectorError
from connector.models import ConsentState, MarketingConsent
from connector.protocols import ContactChange, ContactState, EspContact

__all__ = [
    "DEFAULT_MAX_SHARE", "DEFAULT_MIN_CHANGES", "ConsentDecision", "ConsentShareError", "carries_evidence",
    "check_consent_share", "decide", "guard_lists",
]

DEFAULT_MAX_SHARE = 0.05
DEFAULT_MIN_CHANGES = 10  # fewer subscription changes than this on a list never trip the guard
NO_EVIDENCE_SUFFIX = ":default"


def carries_evidence(source: str) -> bool:
    """Whether a consent record's ``source`` names real evidence: not the model's bare ``default``, nor a
    platform's ``<platform>:default`` (the same rule the metrics apply in SQL)."""
    return source != "default" and not source.endswith(NO_EVIDENCE_SUFFIX)


class ConsentDecision(BaseModel):
    """What the plan holds for one person's marketing consent, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: ConsentState
    system: str  # "esp:<sink>", "shop" or "pushed" (kept from before)
    field: str  # e.g. "blocklist", "shopify:emailMarketingConsent", "woocommerce:meta:_newsletter_optin"
    at: datetime | None
    reason: str

    @property
    def may_subscribe(self) -> bool:
        return self.state is ConsentState.SUBSCRIBED


def decide(
    shop: MarketingConsent, esp: EspContact | None, *, sink: str, pushed: ContactState | None = None
) -> ConsentDecision:
    """The consent the plan holds for one person in one ESP account (see the module docstring)."""
    if esp is not None and esp.blocklisted:
        return ConsentDecision(state=ConsentState.UNSUBSCRIBED, system=f"esp:{sink}", field="blocklist",
                               at=esp.updated_at, reason="unsubscribed or blocklisted in the ESP: final")
    if shop.state is ConsentState.UNSUBSCRIBED:
        return ConsentDecision(state=ConsentState.UNSUBSCRIBED, system="shop", field=shop.source, at=shop.updated_at,
                               reason="unsubscribed at the shop: propagated")
    if shop.state is ConsentState.SUBSCRIBED:
        return ConsentDecision(state=ConsentState.SUBSCRIBED, system="shop", field=shop.source, at=shop.updated_at,
                               reason="explicit opt-in at the shop")
    no_evidence = not carries_evidence(shop.source)
    if no_evidence and pushed is not None and pushed.consent is ConsentState.SUBSCRIBED:
        return ConsentDecision(state=ConsentState.SUBSCRIBED, system="pushed", field=shop.source, at=None,
                               reason="no consent evidence in the latest shop record; the opt-in given before stands")
    if shop.state is ConsentState.PENDING:
        return ConsentDecision(state=ConsentState.PENDING, system="shop", field=shop.source, at=shop.updated_at,
                               reason="opt-in not confirmed yet (double opt-in pending): not on marketing lists")
    return ConsentDecision(state=ConsentState.NOT_SUBSCRIBED, system="shop", field=shop.source, at=shop.updated_at,
                           reason="no opt-in at the shop" if not no_evidence else "no consent evidence at the shop")


def guard_lists(
    wanted: Iterable[str], decision: ConsentDecision, esp: EspContact | None, *, marketing: Iterable[str]
) -> frozenset[str]:
    """The lists a person may be on: ``wanted`` less the marketing lists the decision or the ESP forbid.

    Args:
        wanted: the lists the segment mapping puts the person on.
        decision: from :func:`decide`.
        esp: the ESP's view of the contact, if it exists there.
        marketing: which lists are marketing lists (consent needed); others are not guarded.
    """
    marketing_lists = frozenset(marketing)
    allowed = set(wanted)
    if not decision.may_subscribe:
        allowed -= marketing_lists
    if esp is not None:
        allowed -= esp.unsubscribed_lists  # an unsubscribe from a list in the ESP is final for that list
    return frozenset(allowed)


class ConsentShareError(ConnectorError):
    """A plan would change the subscription of too large a share of a list; it was not applied."""

    def __init__(self, message: str, *, counts: Mapping[str, tuple[int, int, int]]) -> None:
        super().__init__(message)
        self.counts = dict(counts)  # list -> (subscribed, unsubscribed, list size)


def check_consent_share(
    changes: Iterable[ContactChange],
    list_sizes: Mapping[str, int],
    *,
    max_share: float = DEFAULT_MAX_SHARE,
    force: bool = False,
    min_changes: int = DEFAULT_MIN_CHANGES,
) -> dict[str, tuple[int, int]]:
    """Count subscription changes per list; refuse the plan when one list changes beyond ``max_share``.

    Args:
        changes: the plan's changes.
        list_sizes: contacts on each list now (as last pushed); a new or empty list counts as size 0,
            for which any change is within bounds (a first push fills a list).
        max_share: the largest share of a list one plan may subscribe or unsubscribe.
        force: apply anyway (the counts are still returned, for the report).
        min_changes: a list is only refused when more than this many subscriptions change too, so a
            few ordinary unsubscribes on a small list (1 of 15 is already 7 %) do not stop a sync.

    Returns:
        ``{list: (subscribed, unsubscribed)}`` for every list the plan touches.

    Raises:
        ConsentShareError: a list would change beyond ``max_share`` and ``force`` is off.
    """
    subscribed: Counter[str] = Counter()
    unsubscribed: Counter[str] = Counter()
    for change in changes:
        subscribed.update(change.lists_subscribe)
        unsubscribed.update(change.lists_unsubscribe)
    touched = sorted(set(subscribed) | set(unsubscribed))
    counts = {name: (subscribed[name], unsubscribed[name]) for name in touched}
    over = {
        name: (subscribed[name], unsubscribed[name], list_sizes.get(name, 0))
        for name in touched
        if list_sizes.get(name, 0) > 0 and (subscribed[name] + unsubscribed[name]) / list_sizes[name] > max_share
        and subscribed[name] + unsubscribed[name] > min_changes
    }
    if over and not force:
        lines = [
            f"list {name!r}: {sub + unsub:,} of {size:,} contacts ({(sub + unsub) / size:.1%}) would change "
            f"subscription ({sub:,} subscribed, {unsub:,} unsubscribed)"
            for name, (sub, unsub, size) in sorted(over.items())
        ]
        raise ConsentShareError(
            "plan refused: " + "; ".join(lines) + f"; the limit is {max_share:.0%} of a list per run. "
            "Check the shop's consent data; apply anyway with --force if this is intended.",
            counts=over,
        )
    return counts
