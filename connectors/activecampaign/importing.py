"""Bulk imports in flight: submit a body, confirm it through ``import/info``, report per person.

The sink packs bodies and hands them to :class:`ImportPipeline`, which

* submits each (the client paces it under the bulk-import limiter and the account's limiter);
* on a 400 that names contacts (``failureReasons[].contact`` is an index in the body), reports
  those persons as failed with ActiveCampaign's reason and submits the rest again; on a 400
  that names none (the whole request refused), reports everyone in it as failed;
* on success starts a task that waits for the import on the clock and reads ``import/info``
  until ``completed``: emails under ``failure`` are failed persons, the rest are confirmed (with
  the contact ids under ``success`` when their count matches, i.e. in request order), and then
  ``finish`` runs per confirmed person (tag removals need the contact);
* keeps at most ``max_pending`` imports unconfirmed, so memory and ActiveCampaign's queue stay
  bounded while the next bodies are packed and sent.

The first look at an import happens after an estimate of how long imports take; when it was not
done yet, the next looks follow at a fifth of the estimate (growing by a fifth each time, at most
30 s apart). The estimate adapts: it becomes the time an import was found done after a second
look, and shrinks by 5% when the first look found it done, so a run settles at little more than
one ``import/info`` request per import. Every wait is on the injected clock.

Results come out of :meth:`ready` (whatever is done) and :meth:`drain` (the rest). An error in a
task (e.g. retries exhausted) is raised from there, after the other tasks are cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any

from connector.protocols import ContactChange, PushResult, PushStatus
from connectors.activecampaign.client import ActiveCampaignClient
from connectors.activecampaign.models import AcBulkImportQueued, AcImportInfo, parse
from connectors.activecampaign.rows import Body, split

__all__ = ["ImportPipeline", "failed"]

Finish = Callable[[ContactChange, str | None], Awaitable[PushResult]]
_MIN_ESTIMATE, _MAX_WAIT = 0.5, 30.0
_NOT_IMPORTED = ("ActiveCampaign did not import this contact (it listed the email under the import's failures: "
                 "an undeliverable address, or one on the account's exclusion list)")


def failed(change: ContactChange, reason: str) -> PushResult:
    return PushResult(person_id=change.person_id, status=PushStatus.FAILED, reason=reason)


class ImportPipeline:
    """Imports submitted and awaited for one ``apply``; see the module docstring."""

    def __init__(self, client: ActiveCampaignClient, finish: Finish, *, first_wait: float, timeout: float,
                 max_pending: int) -> None:
        self.client = client
        self.finish = finish
        self.estimate = first_wait
        self.timeout = timeout
        self._slots = asyncio.Semaphore(max_pending)
        # (from a task?, results or the task's error); every task puts exactly one item.
        self._done: asyncio.Queue[tuple[bool, Sequence[PushResult] | BaseException]] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._running = 0
        self.submitted = 0

    # ------------------------------------------------------------------ submitting
    async def submit(self, body: Body) -> None:
        """Submit one body (waiting for a free slot first)."""
        await self._slots.acquire()
        try:
            queued = await self._queue(body)
        except BaseException:
            self._slots.release()
            raise
        if queued is None:
            self._slots.release()
            return
        batch_id, body = queued
        self.spawn(self._confirm(batch_id, body.keys))

    def spawn(self, work: Awaitable[Sequence[PushResult]], *, slot: bool = True) -> None:
        """Run ``work`` as a task whose results (or error) come out of :meth:`ready` / :meth:`drain`."""

        async def run() -> None:
            try:
                self._done.put_nowait((True, await work))
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # handed to the consumer, who raises it
                self._done.put_nowait((True, exc))
            finally:
                if slot:
                    self._slots.release()

        self._running += 1
        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def acquire_slot(self) -> None:
        await self._slots.acquire()

    async def _queue(self, body: Body) -> tuple[str, Body] | None:
        """Submit until queued (returning the batch id) or nobody is left; failures are reported."""
        while body.keys:
            self.submitted += 1
            status, answer = await self.client.bulk_import(body.content, len(body.keys))
            if status != 400:
                return parse(AcBulkImportQueued, answer, "POST /import/bulk_import").batchId, body
            named = _named_failures(answer, len(body.keys))
            if not named:
                reason = f"ActiveCampaign refused the import: {_message(answer)}"
                self._done.put_nowait((False, [failed(change, reason) for change in body.keys]))
                return None
            self._done.put_nowait((False, [failed(body.keys[i], f"ActiveCampaign refused the contact: {why}")
                                           for i, why in sorted(named.items())]))
            body = split(body, sorted(named))
        return None

    # ------------------------------------------------------------------ confirming
    async def _confirm(self, batch_id: str, changes: list[ContactChange]) -> Sequence[PushResult]:
        clock = self.client.clock
        started = clock.monotonic()
        wait, first = self.estimate, True
        step = max(_MIN_ESTIMATE, self.estimate / 5)
        while True:
            await clock.sleep(wait)
            info = parse(AcImportInfo, await self.client.get("/import/info", {"batchId": batch_id}),
                         "GET /import/info")
            if info.status == "completed":
                # Done at the first look: try a little earlier next time. Otherwise it took about this long.
                elapsed = clock.monotonic() - started
                self.estimate = max(_MIN_ESTIMATE, self.estimate * 0.95 if first else min(_MAX_WAIT, elapsed))
                break
            if clock.monotonic() - started > self.timeout:
                reason = f"the import {batch_id} was not completed after {self.timeout:.0f} s (status {info.status!r})"
                return [failed(change, reason) for change in changes]
            wait, first = step, False
            step = min(_MAX_WAIT, step * 1.2)
        rejected = {email.strip().casefold() for email in info.failure}
        imported = [c for c in changes if c.email.casefold() not in rejected]
        ids = info.success if len(info.success) == len(imported) else None
        results: list[PushResult] = []
        position = 0
        for change in changes:
            if change.email.casefold() in rejected:
                results.append(failed(change, _NOT_IMPORTED))
                continue
            contact_id = ids[position] if ids is not None else None
            position += 1
            results.append(await self.finish(change, contact_id))
        return results

    # ------------------------------------------------------------------ results
    def ready(self) -> Iterator[Sequence[PushResult]]:
        """Results done so far (raises a task's error)."""
        while not self._done.empty():
            yield self._check(self._done.get_nowait())

    async def drain(self) -> AsyncIterator[Sequence[PushResult]]:
        """Every remaining result, as tasks finish."""
        while self._running or not self._done.empty():
            yield self._check(await self._done.get())

    def _check(self, entry: tuple[bool, Sequence[PushResult] | BaseException]) -> Sequence[PushResult]:
        from_task, item = entry
        self._running -= from_task
        if isinstance(item, BaseException):
            self.cancel()
            raise item
        return item

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()


def _named_failures(answer: dict[str, Any], size: int) -> dict[int, str]:
    """``failureReasons`` entries that name a contact by its index in the body."""
    out: dict[int, str] = {}
    for item in answer.get("failureReasons") or ():
        if isinstance(item, dict) and isinstance(item.get("contact"), int) and 0 <= item["contact"] < size:
            out[item["contact"]] = str(item.get("failureReason") or "no reason given")
    return out


def _message(answer: dict[str, Any]) -> str:
    reasons = [str(r) for r in answer.get("failureReasons") or () if isinstance(r, str)]
    return " ".join([str(answer.get("message") or "no message"), *reasons]).strip()
