"""The Brevo sink: the core :class:`~connector.protocols.Sink` on Brevo's contacts, lists and imports.

``apply(plan)`` runs in five steps, each paced by the client's budgets:

1. refresh what the account says about blocklists and list unsubscriptions, incrementally by
   ``modifiedSince`` (``GET /contacts``, 1,000 a page);
2. email changes: ``PUT /contacts/{old}?identifierType=email_id`` with ``attributes.EMAIL``, so the
   existing contact gets the new address and no second contact appears;
3. list removals: ``contacts/lists/{id}/contacts/remove``, 150 emails a request;
4. direct writes (contacts that must not go through an import, see :mod:`connectors.brevo.rows`):
   ``POST /contacts`` with ``updateEnabled``, confirmed by its 201/204;
5. imports: every body (under ``import_max_bytes``) is submitted, then the sink waits for the
   processes, newest first, with exponential backoff on ``GET /processes/{id}`` (the 100-an-hour
   budget), and reads the contacts back (``GET /contacts?modifiedSince`` from the newest
   ``modifiedAt`` read in step 1, on Brevo's clock, or from the first import less
   ``verify_margin_seconds`` on an empty account; 1,000 a page; then one by one for any not seen).
   Brevo reports rejected rows only as CSV files behind URLs, so the read-back is what confirms:
   a person is CONFIRMED only when Brevo holds every value and list that was sent.

A confirmed person whose phone was left out (Brevo would refuse the number) gets the reason on its
result; a person whose plan cannot be fully applied (a list add refused for a blocklisted contact,
a value Brevo did not take) is FAILED with the reason, after what could be applied was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx

from connector.clock import Clock
from connector.errors import RemoteAPIError
from connector.http import RetryPolicy
from connector.protocols import EspContact, Plan, PushResult, PushStatus, SchemaSpec
from connector.redact import Redactor
from connectors.brevo.client import LIST_BATCH, BrevoClient
from connectors.brevo.models import Contact
from connectors.brevo.rows import ImportBatch, Row, chunk_rows, direct_body, plan_row
from connectors.brevo.schema import BrevoSchema, ensure_options, ensure_schema, load_schema
from connectors.brevo.settings import BrevoSettings
from connectors.brevo.verify import AccountView, mismatches

__all__ = ["BrevoSink"]

_log = logging.getLogger("connectors.brevo")
_CONCURRENCY = 4  # direct writes in flight; the contacts budget paces them anyway
T = TypeVar("T")


class BrevoSink:
    """Pushes plans to one Brevo account (see the module docstring)."""

    def __init__(
        self,
        settings: BrevoSettings,
        *,
        name: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.client = BrevoClient(settings, account=name, transport=transport, clock=clock, retry=retry)
        self.clock = self.client.clock
        self.view = AccountView()
        self._schema: BrevoSchema | None = None

    def __repr__(self) -> str:
        return f"BrevoSink(name={self.name!r})"

    async def check(self) -> str:
        """For ``connector check``: the API key answers."""
        folders = await self.client.folders()
        return f"Brevo: key accepted ({len(folders)} contact folders)"

    async def aclose(self) -> None:
        await self.client.aclose()

    async def ensure_schema(self, spec: SchemaSpec) -> None:
        """Create the folder, managed lists, attributes and options that are missing; touch nothing else."""
        self._schema = await ensure_schema(self.client, spec)

    async def _loaded_schema(self) -> BrevoSchema:
        if self._schema is None:
            self._schema = await load_schema(self.client)
        return self._schema

    # ------------------------------------------------------------------ read_state
    async def read_state(self, since: datetime | None) -> AsyncIterator[EspContact]:
        """Contacts modified in Brevo after ``since`` (None: all), with blocklist, lists and tags."""
        schema = await self._loaded_schema()
        async for page in self.client.iter_contacts(since):
            self.view.note(page)
            for contact in page:
                if contact.email:
                    yield self.view.esp_contact(contact, schema, self.settings.tags_attribute)

    # ------------------------------------------------------------------ apply
    async def apply(self, plan: Plan) -> AsyncIterator[Sequence[PushResult]]:
        """Apply ``plan``; one result per person, per step (direct writes, then each import)."""
        if not plan.changes:
            return
        schema = await self._loaded_schema()
        await self._refresh()
        tags = {t for c in plan.changes if c.tags_add or c.tags_remove for t in c.desired.tags}
        await ensure_options(self.client, schema, self.settings.tags_attribute, tags)
        rows = [self._row(change, schema) for change in plan.changes]
        problems: dict[str, list[str]] = {}
        await self._change_emails(rows, problems)
        await self._remove_from_lists(rows, problems)
        direct = [r for r in rows if r.direct]
        if direct:
            yield await self._write_direct(direct, problems)
        batches = list(chunk_rows([r for r in rows if not r.direct], max_bytes=self.settings.import_max_bytes,
                                  notify_url=str(self.settings.notify_url) if self.settings.notify_url else None))
        if batches:
            async for results in self._import(batches, problems):
                yield results

    def _row(self, change: Any, schema: BrevoSchema) -> Row:
        emails = [change.email, *([change.previous_email] if change.previous_email else [])]
        row = plan_row(change, settings=self.settings, lists=schema.lists,
                       blocklisted=any(e in self.view.blocklisted for e in emails),
                       unsubscribed=self.view.unsubscribed.get(change.email, frozenset()))
        unknown = sorted(a for a in row.attributes if a not in schema.attributes)
        if unknown:
            row.refused.append(f"attributes not provisioned in Brevo: {', '.join(unknown)}")
        return row

    async def _refresh(self) -> None:
        """Catch up on blocklists and unsubscriptions since the last read (all, the first time)."""
        async for page in self.client.iter_contacts(self.view.since()):
            self.view.note(page)

    async def _change_emails(self, rows: Sequence[Row], problems: dict[str, list[str]]) -> None:
        async def change(row: Row) -> None:
            old, new = row.change.previous_email, row.change.email
            assert old is not None  # noqa: S101 - filtered below
            response = await self.client.update_contact(old, {"attributes": {"EMAIL": new}})
            if response.status_code == 204:
                self.view.renamed(old, new)
            elif response.status_code == 400 and _code(response) != "duplicate_parameter":
                problems.setdefault(row.change.person_id, []).append(self._brevo_said("email change", response))
            # 404: the old contact is gone; duplicate: the new address has a contact already. Either
            # way the write below goes to the new address, and no second contact is created by us.

        await _gather([change(r) for r in rows if r.change.previous_email])

    async def _remove_from_lists(self, rows: Sequence[Row], problems: dict[str, list[str]]) -> None:
        by_list: dict[int, list[Row]] = {}
        for row in rows:
            if not row.change.create:
                for list_id in row.remove:
                    by_list.setdefault(list_id, []).append(row)
        for list_id, members in sorted(by_list.items()):
            for start in range(0, len(members), LIST_BATCH):
                chunk = members[start: start + LIST_BATCH]
                try:
                    await self.client.remove_from_list(list_id, [r.change.email for r in chunk])
                except RemoteAPIError as exc:
                    for row in chunk:
                        problems.setdefault(row.change.person_id, []).append(f"list removal failed: {exc.status}")

    async def _write_direct(self, rows: Sequence[Row], problems: dict[str, list[str]]) -> list[PushResult]:
        async def write(row: Row) -> PushResult:
            response = await self.client.upsert_contact(direct_body(row))
            if response.status_code >= 400:
                return _failed(row, [*problems.get(row.change.person_id, []), self._brevo_said("write", response)])
            if row.blocklist:
                self.view.blocklisted.add(row.change.email)
            contact_id = response.json().get("id") if response.status_code == 201 else None
            return _result(row, problems, None if contact_id is None else str(contact_id))

        return await _gather([write(r) for r in rows])

    async def _import(self, batches: Sequence[ImportBatch], problems: dict[str, list[str]]
                      ) -> AsyncIterator[list[PushResult]]:
        submitted: list[tuple[int, ImportBatch]] = []
        started = self.clock.now()
        for batch in batches:
            try:
                submitted.append((await self.client.import_contacts(batch.body), batch))
            except RemoteAPIError as exc:
                yield [_failed(r, [*problems.get(r.change.person_id, []), f"import refused: {exc.status}"])
                       for r in batch.rows]
        if not submitted:
            return
        unfinished = await self._wait([pid for pid, _ in submitted])
        done = [b for pid, b in submitted if pid not in unfinished]
        seen = await self._read_back(done, started - timedelta(seconds=self.settings.verify_margin_seconds))
        for pid, batch in submitted:
            if pid in unfinished:
                yield [_failed(r, [f"import {pid} did not complete in time"]) for r in batch.rows]
                continue
            results = []
            for row in batch.rows:
                contact = seen.get(row.change.email)
                wrong = ["not in Brevo after the import"] if contact is None else mismatches(row, contact)
                if wrong:
                    results.append(_failed(row, [*problems.get(row.change.person_id, []),
                                                 f"Brevo did not take the import row ({'; '.join(wrong)})"]))
                else:
                    results.append(_result(row, problems, str(contact.id) if contact else None))
            yield results

    async def _wait(self, process_ids: Sequence[int]) -> set[int]:
        """Wait until the processes are completed, newest first; the ids still unfinished at the timeout."""
        pending = list(process_ids)
        delay = self.settings.process_poll_initial_seconds
        deadline = self.clock.monotonic() + self.settings.import_timeout_seconds
        await self.clock.sleep(delay)
        while pending:
            process = await self.client.process(pending[-1])
            if process.status == "completed":
                pending.pop()
                continue
            if self.clock.monotonic() + delay > deadline:
                return set(pending)
            delay = min(delay * 2, self.settings.process_poll_max_seconds)
            await self.clock.sleep(delay)
        return set()

    async def _read_back(self, batches: Sequence[ImportBatch], since: datetime) -> dict[str, Contact]:
        """The imported contacts as Brevo holds them: one modifiedSince pass, then one by one."""
        wanted = {r.change.email for b in batches for r in b.rows}
        seen: dict[str, Contact] = {}
        # Brevo's own clock, when the view has read anything: every import ran after that read.
        async for page in self.client.iter_contacts(self.view.since() or since):
            self.view.note(page)
            seen.update((c.email, c) for c in page if c.email in wanted)

        async def fetch(email: str) -> None:
            contact = await self.client.contact(email)
            if contact is not None:
                seen[email] = contact

        await _gather([fetch(e) for e in sorted(wanted - set(seen))])
        return seen

    def _brevo_said(self, what: str, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            body = {}
        message = str(body.get("message", "")) if isinstance(body, dict) else ""
        return f"{what} refused by Brevo ({response.status_code} {_code(response)}: {_mask(message)})"


def _mask(text: str) -> str:
    """Brevo's message without any email address in it."""
    return Redactor([]).text(" ".join("<email>" if "@" in word else word for word in text.split()))


def _code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("code", "")) if isinstance(body, dict) else ""


def _failed(row: Row, reasons: Iterable[str]) -> PushResult:
    reasons = [*row.refused, *reasons]
    return PushResult(person_id=row.change.person_id, status=PushStatus.FAILED,
                      reason="; ".join(dict.fromkeys(reasons)) or "not applied")


def _result(row: Row, problems: dict[str, list[str]], contact_id: str | None) -> PushResult:
    reasons = [*row.refused, *problems.get(row.change.person_id, [])]
    if reasons:
        return _failed(row, reasons)
    if row.notes:
        _log.info("brevo: person %s pushed; %s", row.change.person_id, "; ".join(row.notes))
    return PushResult(person_id=row.change.person_id, status=PushStatus.CONFIRMED, contact_id=contact_id,
                      reason="; ".join(row.notes) or None)


async def _gather(jobs: Sequence[Awaitable[T]]) -> list[T]:
    """Run ``jobs`` with at most :data:`_CONCURRENCY` in flight, results in order."""
    slots = asyncio.Semaphore(_CONCURRENCY)

    async def run(job: Awaitable[T]) -> T:
        async with slots:
            return await job

    return list(await asyncio.gather(*(run(j) for j in jobs)))

