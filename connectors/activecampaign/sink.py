"""The ActiveCampaign sink: the core :class:`~connector.protocols.Sink` contract on API v3.

* ``ensure_schema`` provisions the managed lists, tags and fields (:mod:`.schema`).
* ``read_state`` reads per-list statuses and managed tags, incrementally after the first run
  (:mod:`.readback`).
* ``apply`` pushes a plan. Per person, in this order:

  1. **Refusals**, with no request: a subscribe to a list ActiveCampaign has the contact
     unsubscribed from (known from ``read_state``, or read once per sink from the managed lists'
     unsubscribes before the first plan that subscribes anyone), a subscribe together with an
     unsubscribed consent, or a field or list that is not provisioned. The person is reported
     failed with the reason and nothing of theirs is sent: the connector never re-subscribes.
  2. **Email change** (``previous_email``): the contact found by the previous email (``GET
     /contacts?email=``, unless its id is known) gets the new email (``PUT /contacts/{id}``)
     before the import, so the import updates it instead of creating a second contact. A new
     email that belongs to another contact already is a failed push (ActiveCampaign's 422).
  3. **The import** of everything else (native fields, custom fields, added tags by name, list
     subscribes and unsubscribes; consent ``unsubscribed`` unsubscribes every managed list) in
     bulk-import bodies of at most 250 contacts and 399,999 bytes (:mod:`.rows`), confirmed
     through ``import/info`` (:mod:`.importing`).
  4. **Tag removals** once the import is confirmed: ``GET /contacts/{id}/contactTags`` and a
     ``DELETE /contactTags/{id}`` per managed tag to remove. Tags added by hand are never touched.

Small plans also go through the bulk importer (a one-contact body is paced at the importer's 20
single-contact requests a minute): ``contact/sync`` would need a request per contact plus one per
tag and list, where one import and one ``import/info`` carry up to 250 contacts.

Only what ActiveCampaign confirmed is reported ``CONFIRMED``; every other person in the plan is
``FAILED`` with a reason. An error that outlives the retry policy ends ``apply`` with that error
(results already yielded stand; the rest are planned again next run, and imports are upserts).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime

import httpx

from connector.clock import Clock
from connector.errors import ConfigError
from connector.http import RetryPolicy
from connector.models import ConsentState
from connector.protocols import STANDARD_FIELDS, ContactChange, EspContact, Plan, PushResult, PushStatus, SchemaSpec
from connectors.activecampaign.client import ActiveCampaignClient
from connectors.activecampaign.importing import ImportPipeline, failed
from connectors.activecampaign.models import AcContactRow, AcContactTagRow, parse
from connectors.activecampaign.readback import ContactCache, read_contacts, unsubscribed_by_email
from connectors.activecampaign.rows import Packer, encode, field_text, native_fields
from connectors.activecampaign.schema import AccountSchema
from connectors.activecampaign.settings import ActiveCampaignSettings

__all__ = ["ActiveCampaignSink"]

_DIRECT_GROUP = 250  # persons with only tag removals, handled together in one task


class ActiveCampaignSink:
    """One ActiveCampaign account as a sink (see the module docstring)."""

    def __init__(
        self,
        settings: ActiveCampaignSettings,
        *,
        name: str = "activecampaign",
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.client = ActiveCampaignClient(settings, account=name, transport=transport, clock=clock, retry=retry)
        self.schema = AccountSchema()
        self.contacts = ContactCache()
        self._import_estimate = settings.import_poll_seconds

    def __repr__(self) -> str:
        return f"ActiveCampaignSink(name={self.name!r}, url={str(self.settings.url)!r})"

    async def check(self) -> str:
        """For ``connector check``: the API URL and token answer."""
        body = await self.client.get("/lists", {"limit": 1})
        return f"{self.settings.url}: token accepted ({body.get('meta', {}).get('total', '?')} lists)"

    async def aclose(self) -> None:
        await self.client.aclose()

    # ------------------------------------------------------------------ schema and state
    async def ensure_schema(self, spec: SchemaSpec) -> None:
        """Create the managed lists, tags and fields the account lacks (see :mod:`.schema`)."""
        sender = (self.settings.list_sender_url, self.settings.list_sender_reminder)
        await self.schema.ensure(self.client, spec, sender)

    def _spec(self) -> SchemaSpec:
        if self.schema.spec is None:
            raise ConfigError(f"activecampaign {self.name}: call ensure_schema(spec) before read_state or apply")
        return self.schema.spec

    async def read_state(self, since: datetime | None) -> AsyncIterator[EspContact]:
        """Managed contacts (``since`` None) or those changed since ``since`` (see :mod:`.readback`)."""
        self._spec()
        async for contact in read_contacts(self.client, self.schema, self.contacts, since):
            yield contact

    # ------------------------------------------------------------------ apply
    async def apply(self, plan: Plan) -> AsyncIterator[Sequence[PushResult]]:
        """Apply ``plan``; yields results as imports are confirmed, one per person in all."""
        self._spec()
        if self.contacts.unsubscribed is None and any(c.lists_subscribe for c in plan.changes):
            self.contacts.unsubscribed = await unsubscribed_by_email(self.client, self.schema)
        pipeline = ImportPipeline(self.client, self._finish, first_wait=self._import_estimate,
                                  timeout=self.settings.import_timeout_seconds,
                                  max_pending=self.settings.max_pending_imports)
        packer = Packer()
        refused: list[PushResult] = []
        direct: list[ContactChange] = []
        try:
            for change in plan.changes:
                problem = self._refusal(change)
                if problem is None and change.previous_email is not None:
                    problem = await self._change_email(change)
                if problem is not None:
                    refused.append(failed(change, problem))
                elif not _needs_import(change):
                    direct.append(change)
                else:
                    row = encode(self._row(change))
                    if not packer.fits_alone(row):
                        refused.append(failed(change, f"the contact's data ({len(row)} bytes) exceeds an import"))
                        continue
                    for body in packer.add(change, row):
                        await pipeline.submit(body)
                if len(direct) >= _DIRECT_GROUP:
                    await self._spawn_direct(pipeline, direct)
                    direct = []
                if len(refused) >= _DIRECT_GROUP:
                    yield refused
                    refused = []
                for results in pipeline.ready():
                    yield results
            for body in packer.flush():
                await pipeline.submit(body)
            if direct:
                await self._spawn_direct(pipeline, direct)
            if refused:
                yield refused
            async for results in pipeline.drain():
                yield results
        finally:
            pipeline.cancel()
            self._import_estimate = pipeline.estimate

    def _refusal(self, change: ContactChange) -> str | None:
        """Why ``change`` must not be sent at all, or None."""
        for name in sorted(change.fields):
            if name not in STANDARD_FIELDS and self.schema.managed_field(name) is None:
                return f"field {name!r} is not a managed field (not in the schema given to ensure_schema)"
        for name in sorted(change.lists_subscribe | change.lists_unsubscribe):
            if self.schema.list_id(name) is None:
                return f"list {name!r} is not provisioned (not in the schema given to ensure_schema)"
        if change.lists_subscribe and change.consent is ConsentState.UNSUBSCRIBED:
            return "the change subscribes lists although the person unsubscribed; nothing was sent"
        left = self.contacts.left(change.email) | (
            self.contacts.left(change.previous_email) if change.previous_email else set())
        refused = sorted(n for n in change.lists_subscribe if self.schema.list_id(n) in left)
        if refused:
            return (f"ActiveCampaign has this contact unsubscribed from {', '.join(map(repr, refused))}; "
                    "the connector never re-subscribes anyone, so nothing was sent")
        return None

    def _row(self, change: ContactChange) -> dict[str, object]:
        """The bulk-import contact for ``change`` (see :mod:`.rows`)."""
        row: dict[str, object] = {"email": change.email, **native_fields(dict(change.fields))}
        custom = []
        for name, value in sorted(change.fields.items()):
            managed = self.schema.managed_field(name)
            if name not in STANDARD_FIELDS and managed is not None:
                custom.append({"id": managed.id, "value": field_text(value, managed.kind)})
        if change.tags_add:
            row["tags"] = sorted(change.tags_add)
        if custom:
            row["fields"] = custom
        subscribe = sorted(i for n in change.lists_subscribe if (i := self.schema.list_id(n)) is not None)
        leave = {i for n in change.lists_unsubscribe if (i := self.schema.list_id(n)) is not None}
        if change.consent is ConsentState.UNSUBSCRIBED:
            leave |= set(self.schema.managed_list_ids())
        if subscribe:
            row["subscribe"] = [{"listid": str(i)} for i in subscribe]
        if leave:
            row["unsubscribe"] = [{"listid": str(i)} for i in sorted(leave)]
            self.contacts.note_unsubscribed(change.email, leave)
        if self.settings.exclude_automations:
            row["exclude_automations"] = True
        return row

    async def _change_email(self, change: ContactChange) -> str | None:
        """Move the contact at ``previous_email`` to ``email``; a reason when that is refused."""
        old = change.previous_email
        assert old is not None  # noqa: S101 - the caller checked
        contact_id = await self._contact_id(old)
        if contact_id is None:
            return None  # no contact under the old email: the import creates one under the new email
        status, answer = await self.client.send("PUT", f"/contacts/{contact_id}",
                                                {"contact": {"email": change.email}}, expected=(404, 422))
        if status == 404:
            self.contacts.ids.pop(old.casefold(), None)
            return None
        if status == 422:
            return ("ActiveCampaign refused the email change: the new address belongs to another contact "
                    f"already ({_first_error(answer)}); merge the two contacts in ActiveCampaign")
        self.contacts.moved(old, change.email)
        return None

    async def _contact_id(self, email: str) -> int | None:
        """The id of the contact with ``email`` (known, or looked up)."""
        known = self.contacts.ids.get(email.casefold())
        if known is not None:
            return known
        body = await self.client.get("/contacts", {"email": email})
        rows = [parse(AcContactRow, raw, "GET /contacts") for raw in body.get("contacts") or ()]
        match = next((r for r in rows if r.email.casefold() == email.casefold()), None)
        if match is not None:
            self.contacts.ids[email.casefold()] = match.id
        return match.id if match else None

    async def _finish(self, change: ContactChange, contact_id: str | None) -> PushResult:
        """After the import confirmed ``change``: remove tags; the person's result."""
        if contact_id is not None:
            self.contacts.ids[change.email.casefold()] = int(contact_id)
        key = await self._remove_tags(change, int(contact_id) if contact_id else None)
        final = contact_id or (str(key) if key is not None else None)
        return PushResult(person_id=change.person_id, status=PushStatus.CONFIRMED, contact_id=final)

    async def _remove_tags(self, change: ContactChange, contact_id: int | None) -> int | None:
        tag_ids = {i for n in change.tags_remove if (i := self.schema.tag_id(n)) is not None}
        if not tag_ids:
            return contact_id if contact_id is not None else self.contacts.ids.get(change.email.casefold())
        contact_id = contact_id if contact_id is not None else await self._contact_id(change.email)
        if contact_id is None:
            return None  # no such contact: it has no tags to remove
        body = await self.client.get(f"/contacts/{contact_id}/contactTags")
        for raw in body.get("contactTags") or ():
            link = parse(AcContactTagRow, raw, "GET /contacts/{id}/contactTags")
            if link.tag in tag_ids:
                await self.client.send("DELETE", f"/contactTags/{link.id}", expected=(404,))
        return contact_id

    async def _spawn_direct(self, pipeline: ImportPipeline, changes: list[ContactChange]) -> None:
        """Persons with nothing to import (only tags to remove): handled in one task."""

        async def run() -> Sequence[PushResult]:
            return [await self._finish(change, None) for change in changes]

        await pipeline.acquire_slot()
        pipeline.spawn(run())


def _needs_import(change: ContactChange) -> bool:
    return bool(change.create or change.fields or change.tags_add or change.lists_subscribe
                or change.lists_unsubscribe or change.consent is ConsentState.UNSUBSCRIBED)


def _first_error(answer: dict[str, object]) -> str:
    errors = answer.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("title") or errors[0].get("code") or "no reason given")
    return str(answer.get("message") or "no reason given")
