"""The minimal change for one person: desired contact state against what was last pushed.

:func:`diff` compares two :class:`~connector.protocols.ContactState` values and returns the
:class:`~connector.protocols.ContactChange` that turns the pushed one into the desired one, or
``None`` when they are the same (unchanged people produce nothing). Only *managed* tags, lists and
fields are ever in a state, so a tag a marketer added by hand in the ESP is never removed: it was
never pushed, so it is never in ``tags_remove``.

It is a pure function of its inputs, one person at a time, so a plan over a million people can be
streamed: nothing holds every desired state in memory. Applying the change and recording its
``desired`` state as pushed makes the next :func:`diff` return ``None``.

Fields (compared in their serialised form, as a stored pushed state reads back): a field whose
desired value differs from the pushed one is in ``fields`` with the desired
value, ``None`` meaning "clear it"; a field absent from both is left alone. For a new contact
(nothing pushed yet) only non-empty fields are sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from connector.models import ConsentState
from connector.protocols import ContactChange, ContactState, FieldValue, field_json

__all__ = ["diff", "diff_all"]


def _field_changes(desired: Mapping[str, FieldValue], pushed: Mapping[str, FieldValue]) -> dict[str, FieldValue]:
    changed: dict[str, FieldValue] = {}
    for name in sorted(set(desired) | set(pushed)):
        new, old = desired.get(name), pushed.get(name)
        if field_json(new) != field_json(old):
            changed[name] = new
    return changed


def diff(person_id: str, desired: ContactState, pushed: ContactState | None,
         pushed_digest: str | None = None) -> ContactChange | None:
    """The change that makes the ESP hold ``desired``, given ``pushed`` (None: never pushed).

    An email change (``desired.email`` differs from ``pushed.email``) sets ``previous_email`` so the
    sink updates that contact rather than creating a second one. ``pushed_digest``: the stored digest
    of ``pushed``, when the caller has it (saves recomputing it).

    The change is built without re-running its validators: its invariants (disjoint adds and removes,
    ``desired.email == email``) hold by construction here, and plans run to a million people.
    """
    if pushed is None:
        return ContactChange.model_construct(
            person_id=person_id,
            email=desired.email,
            create=True,
            fields={k: v for k, v in sorted(desired.fields.items()) if v is not None and v != ()},
            tags_add=desired.tags,
            lists_subscribe=desired.lists,
            consent=desired.consent if desired.consent is not ConsentState.NOT_SUBSCRIBED else None,
            desired=desired,
        )
    if desired.digest() == (pushed_digest or pushed.digest()):
        return None
    change = ContactChange.model_construct(
        person_id=person_id,
        email=desired.email,
        previous_email=pushed.email if pushed.email != desired.email else None,
        fields=_field_changes(desired.fields, pushed.fields),
        tags_add=desired.tags - pushed.tags,
        tags_remove=pushed.tags - desired.tags,
        lists_subscribe=desired.lists - pushed.lists,
        lists_unsubscribe=pushed.lists - desired.lists,
        consent=desired.consent if desired.consent is not pushed.consent else None,
        desired=desired,
    )
    return None if change.is_empty else change


def diff_all(
    people: Iterable[tuple[str, ContactState]], pushed: Mapping[str, ContactState] | None = None
) -> Iterator[ContactChange]:
    """:func:`diff` over a stream of ``(person_id, desired)``, yielding only real changes.

    ``pushed`` maps person ids to their last pushed state (a dict for small sets; the pipeline
    passes a store-backed mapping).
    """
    known = pushed or {}
    for person_id, desired in people:
        change = diff(person_id, desired, known.get(person_id))
        if change is not None:
            yield change
