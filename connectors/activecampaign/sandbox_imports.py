"""The sandbox's bulk contact importer: validation at the door, then asynchronous processing on the clock.

``POST /import/bulk_import`` is checked as a whole first (at most 250 contacts, a body under
400,000 bytes, every contact with a well-formed ``email``); a failure answers 400 and queues
nothing. A valid request is queued and answered with a ``batchId``; the import runs
``seconds_for(n)`` later on the sandbox clock (whenever a request arrives after that), applying
each contact in order:

* an email on the account's exclusion list, or one whose domain has no dot or whose local part
  has a quote (as in the docs example ``invalid.email@invalidDomain``), is not imported and is
  listed under ``failure`` by email;
* otherwise the contact is created or updated by email: names and phone when given, ``tags`` by
  name (created when missing), ``fields`` by id (unknown ids are ignored, as ActiveCampaign
  does), then ``subscribe`` (status 1) and ``unsubscribe`` (status 2) per list id; its id is
  listed under ``success``, in request order.

``exclude_automations`` (top level, or per contact as in the docs example) is recorded per import,
so tests can check what the sink asked for.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connectors.activecampaign.sandbox_store import SUBSCRIBED, UNSUBSCRIBED, AcAccount

__all__ = ["MAX_BODY_BYTES", "MAX_CONTACTS", "ImportJob", "Importer", "ImportRefused"]

MAX_CONTACTS = 250
MAX_BODY_BYTES = 400_000  # the payload must be < 400 KB, i.e. at most 399,999 bytes
_WELL_FORMED = re.compile(r"^[^@\s]+@[^@\s]+$")
_NOT_QUEUED = ("JSON payload did not pass validation. Please fix failure Reasons and retry. "
               "The import was not queued for processing.")


class ImportRefused(Exception):  # noqa: N818 - an answer, not an error of ours
    """The request is refused as a whole: a 400 with ``body``."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body.get("message", ""))
        self.body = body


@dataclass
class ImportJob:
    batch_id: str
    contacts: list[dict[str, Any]]
    exclude_automations: bool
    queued_at: datetime
    due: datetime
    status: str = "queued"
    success: list[str] = field(default_factory=list)
    failure: list[str] = field(default_factory=list)

    def dump(self) -> dict[str, Any]:
        return {"batch_id": self.batch_id, "contacts": self.contacts, "exclude_automations": self.exclude_automations,
                "queued_at": self.queued_at.isoformat(), "due": self.due.isoformat(), "status": self.status,
                "success": self.success, "failure": self.failure}

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> ImportJob:
        return cls(data["batch_id"], list(data["contacts"]), bool(data["exclude_automations"]),
                   datetime.fromisoformat(data["queued_at"]), datetime.fromisoformat(data["due"]),
                   data["status"], list(data["success"]), list(data["failure"]))


class Importer:
    """Queues and runs bulk imports against one account.

    Args:
        base_seconds / seconds_per_contact: an import of n contacts completes
            ``base_seconds + n * seconds_per_contact`` after it was queued.
    """

    def __init__(self, account: AcAccount, *, base_seconds: float = 1.0, seconds_per_contact: float = 0.01) -> None:
        self.account = account
        self.base_seconds = base_seconds
        self.seconds_per_contact = seconds_per_contact
        self.jobs: dict[str, ImportJob] = {}

    def seconds_for(self, contacts: int) -> float:
        return self.base_seconds + contacts * self.seconds_per_contact

    # ------------------------------------------------------------------ the door
    def submit(self, body: bytes) -> ImportJob:
        """Validate and queue one request body.

        Raises:
            ImportRefused: the whole request is refused (400), with ActiveCampaign's body.
        """
        if len(body) >= MAX_BODY_BYTES:
            raise ImportRefused(_other(f"Payload too large: the request body must be less than 400K "
                                       f"({len(body)} bytes received)."))
        payload = _json_object(body)
        contacts = payload.get("contacts")
        if not isinstance(contacts, list) or not contacts:
            raise ImportRefused(_other("The 'contacts' array is required and must not be empty."))
        if len(contacts) > MAX_CONTACTS:
            raise ImportRefused(_other(f"Up to {MAX_CONTACTS} contacts may be imported per request "
                                       f"({len(contacts)} received)."))
        reasons = [{"contact": i, "failureReason": reason}
                   for i, contact in enumerate(contacts) if (reason := _contact_problem(contact))]
        if reasons:
            raise ImportRefused({"success": 0, "message": _NOT_QUEUED, "failureReasons": reasons})
        now = self.account.now()
        job = ImportJob(
            batch_id=str(uuid.uuid4()),
            contacts=contacts,
            exclude_automations=payload.get("exclude_automations") is True
            or all(c.get("exclude_automations") is True for c in contacts),
            queued_at=now,
            due=now + timedelta(seconds=self.seconds_for(len(contacts))),
        )
        self.jobs[job.batch_id] = job
        return job

    # ------------------------------------------------------------------ processing
    def run_due(self) -> None:
        """Run every queued import whose time has come, oldest first."""
        now = self.account.now()
        due = sorted((j for j in self.jobs.values() if j.status == "queued" and j.due <= now), key=lambda j: j.due)
        for job in due:
            with self.account.lock:
                self._run(job)

    def _run(self, job: ImportJob) -> None:
        account = self.account
        for row in job.contacts:
            email = str(row["email"]).strip()
            if email.lower() in account.exclusions or not _deliverable(email):
                job.failure.append(email)
                continue
            contact = account.upsert_contact(email, first_name=_text(row.get("first_name")),
                                             last_name=_text(row.get("last_name")), phone=_text(row.get("phone")))
            for name in row.get("tags") or ():
                tag = account.tag_by_name(str(name)) or account.add_tag(str(name))
                account.tag_contact(contact.id, tag.id)
            for item in row.get("fields") or ():
                field_id = _int(item.get("id"))
                if field_id in account.fields:
                    account.set_field_value(contact.id, field_id, str(item.get("value", "")))
            for key, status in (("subscribe", SUBSCRIBED), ("unsubscribe", UNSUBSCRIBED)):
                for item in row.get(key) or ():
                    list_id = _int(item.get("listid"))
                    if list_id in account.lists:
                        account.set_list_status(contact.id, list_id, status, via="bulk_import")
            job.success.append(str(contact.id))
        job.status = "completed"

    # ------------------------------------------------------------------ persistence
    def dump(self) -> list[dict[str, Any]]:
        return [job.dump() for job in self.jobs.values()]

    def restore(self, saved: list[Mapping[str, Any]]) -> None:
        self.jobs = {job.batch_id: job for job in map(ImportJob.load, saved)}


def _other(reason: str) -> dict[str, Any]:
    return {"success": 0, "message": _NOT_QUEUED, "failureReasons": [reason]}


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError:
        raise ImportRefused(_other("The request body is not valid JSON.")) from None
    if not isinstance(payload, dict):
        raise ImportRefused(_other("The request body must be a JSON object."))
    return payload


def _contact_problem(contact: object) -> str | None:
    if not isinstance(contact, dict):
        return "Contact must be an object"
    email = contact.get("email")
    if not isinstance(email, str) or not email.strip():
        return "Field 'email' is required"
    if not _WELL_FORMED.match(email.strip()):
        return "Field 'email' incorrect format"
    for key in ("tags", "fields", "subscribe", "unsubscribe"):
        if key in contact and not isinstance(contact[key], list):
            return f"Field '{key}' must be an array"
    return None


def _deliverable(email: str) -> bool:
    local, _, domain = email.rpartition("@")
    return "." in domain and "'" not in local and '"' not in local


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
