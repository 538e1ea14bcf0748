"""Background processes of the Brevo sandbox: ``contacts/import`` runs later, on the sandbox clock.

An import is accepted at once (``202 {processId}``) and queued. The account works through its queue
one process at a time: a process starts when the one before it is done and takes
``seconds_base + seconds_per_contact * rows``; it is ``queued``, then ``in_process``, then
``completed``. Its rows are applied to the account at the moment it completes: every request first
calls :meth:`ImportQueue.advance`, so an import is applied before any request that arrives after it
finished, as on a real account.

Rows Brevo cannot take are skipped and counted (an invalid email, an invalid or already used
``SMS``): the rest of the import goes on. The real API reports such rows only as CSV files behind
URLs in the completed process; the connector does not parse those but reads the contacts back, so
the sandbox keeps the rejected rows in :attr:`Process.rejected` for tests; its process answer is
the documented ``{id, status, name}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connector.clock import Clock
from connectors.brevo.sandbox_store import AccountError, BrevoAccount, Change

__all__ = ["ImportQueue", "Process"]


@dataclass
class Process:
    id: int
    name: str
    submitted: datetime
    starts: datetime
    done: datetime
    rows: list[dict[str, Any]]
    options: dict[str, Any]
    applied: bool = False
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (email or row, reason)

    def status(self, now: datetime) -> str:
        if now >= self.done:
            return "completed"
        return "in_process" if now >= self.starts else "queued"

    def render(self, now: datetime) -> dict[str, Any]:
        return {"id": self.id, "status": self.status(now), "name": self.name}

    def dump(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "submitted": self.submitted.isoformat(),
                "starts": self.starts.isoformat(), "done": self.done.isoformat(),
                "rows": [] if self.applied else self.rows, "options": self.options, "applied": self.applied,
                "rejected": [list(r) for r in self.rejected]}

    @classmethod
    def load(cls, data: dict[str, Any]) -> Process:
        return cls(id=data["id"], name=data["name"], submitted=datetime.fromisoformat(data["submitted"]),
                   starts=datetime.fromisoformat(data["starts"]), done=datetime.fromisoformat(data["done"]),
                   rows=list(data["rows"]), options=dict(data["options"]), applied=data["applied"],
                   rejected=[(a, b) for a, b in data["rejected"]])


class ImportQueue:
    """The account's background processes."""

    def __init__(self, account: BrevoAccount, clock: Clock, *, seconds_base: float, seconds_per_contact: float) -> None:
        self.account = account
        self.clock = clock
        self.seconds_base = seconds_base
        self.seconds_per_contact = seconds_per_contact
        self.processes: dict[int, Process] = {}
        self.next_id = 1

    def submit(self, rows: list[dict[str, Any]], options: dict[str, Any]) -> Process:
        """Queue an import of ``rows`` (``jsonBody`` items) with the request's ``options``."""
        now = self.clock.now()
        last_done = max((p.done for p in self.processes.values()), default=now)
        starts = max(now, last_done)
        done = starts + timedelta(seconds=self.seconds_base + self.seconds_per_contact * len(rows))
        process = Process(self.next_id, "IMPORTUSER", now, starts, done, rows, options)
        self.next_id += 1
        self.processes[process.id] = process
        return process

    def advance(self) -> None:
        """Apply every import that has completed by now, in order."""
        now = self.clock.now()
        for process in sorted(self.processes.values(), key=lambda p: p.done):
            if process.applied or process.done > now:
                continue
            self._run(process)

    def _run(self, process: Process) -> None:
        account, options = self.account, process.options
        update = options.get("updateExistingContacts", True)
        for index, row in enumerate(process.rows):
            # Each row is done at its own moment of the run, as Brevo works through a file.
            at = min(process.done, process.starts + timedelta(
                seconds=self.seconds_base + self.seconds_per_contact * (index + 1)))
            raw_email = row.get("email")
            try:
                email = account.check_email(raw_email)
            except AccountError as exc:
                process.rejected.append((str(raw_email), exc.message))
                continue
            change = Change(
                attributes={k: v for k, v in (row.get("attributes") or {}).items() if str(k).upper() != "EMAIL"},
                email_blacklisted=True if options.get("emailBlacklist") else None,
                sms_blacklisted=True if options.get("smsBlacklist") else None,
                add_lists=tuple(options.get("listIds") or ()),
                empty_clears=bool(options.get("emptyContactsAttributes")) and update,
            )
            contact = account.find(email, "email_id")
            try:
                if contact is None:
                    account.create(email, at, change)
                elif update:
                    account.update(contact, change, at, via=f"import {process.id}")
                else:
                    account.update(contact, Change(add_lists=change.add_lists), at, via=f"import {process.id}")
            except AccountError as exc:
                process.rejected.append((email, exc.message))
        process.applied = True
        process.rows = []

    def dump(self) -> dict[str, Any]:
        return {"processes": [p.dump() for p in self.processes.values()], "next_id": self.next_id}

    def load(self, data: dict[str, Any]) -> None:
        self.processes = {p.id: p for p in map(Process.load, data.get("processes", []))}
        self.next_id = int(data.get("next_id", 1))
