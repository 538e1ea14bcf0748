"""The demo's world: two generated shops and two ESP accounts as in-process sandboxes, wired to a pipeline.

``connector demo`` (and the end-to-end tests) build it with :func:`build_world`: a Shopify shop and
a WooCommerce shop drawn from one population (so some people are customers of both), an
ActiveCampaign and a Brevo account, the configuration a user would write for them (saved in the
demo directory), a SQLite store there, and a :class:`~connector.pipeline.PipelineRun` whose sources
and sinks talk to the sandboxes in-process. :func:`simulate_day` then makes a day of activity
happen in the sandboxes: new orders, an abandoned cart, an unsubscribe in each ESP, an email change.

This module lives with the connectors because it names them; the core never imports it except from
the ``demo`` command.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from connector.clock import Clock
from connector.config import Settings
from connector.errors import ConnectorError
from connector.pipeline import PipelineRun
from connector.runner import open_pipeline
from connector.sandbox.app import SandboxApp
from connector.sandbox.datagen import GeneratedShop, ShopSpec
from connector.segments.definitions import SegmentDefinitions
from connector.store import Store

__all__ = ["DemoWorld", "DayEvents", "build_world", "simulate_day"]

PIPELINE = "demo"
SHOPIFY, WOOCOMMERCE, ACTIVECAMPAIGN, BREVO = "shopify_shop", "woo_shop", "activecampaign", "brevo"
DEMO_NOW = datetime.fromisoformat("2026-01-05T09:00:00+00:00")


@dataclass
class DemoWorld:
    directory: Path
    clock: Clock
    settings: Settings
    definitions: SegmentDefinitions
    store: Store
    sandboxes: dict[str, SandboxApp]
    shops: dict[str, GeneratedShop]
    pipeline: PipelineRun
    closers: list[Any] = field(default_factory=list)

    def requests(self) -> dict[str, int]:
        """API requests each sandbox received so far (what each platform would have counted)."""
        return {name: len(sandbox.log.entries) for name, sandbox in self.sandboxes.items()}

    async def aclose(self) -> None:
        for thing in self.closers:
            await thing.aclose()
        self.store.close()


def _config(directory: Path) -> dict[str, Any]:
    from connectors.activecampaign.sandbox import SANDBOX_TOKEN as AC_TOKEN
    from connectors.brevo.sandbox import SANDBOX_KEY
    from connectors.shopify.sandbox import SANDBOX_TOKEN as SHOPIFY_TOKEN
    from connectors.woocommerce.sandbox import SANDBOX_KEY as WC_KEY
    from connectors.woocommerce.sandbox import SANDBOX_SECRET as WC_SECRET

    return {
        "store": {"data_dir": str(directory)},
        "segments_file": str(directory / "segments.toml"),
        "shops": {
            SHOPIFY: {"platform": "shopify", "shop": "demo-shop", "access_token": SHOPIFY_TOKEN},
            WOOCOMMERCE: {"platform": "woocommerce", "url": "https://woo.demo.test", "consumer_key": WC_KEY,
                          "consumer_secret": WC_SECRET, "max_requests_per_second": 50,
                          "consent_meta_key": "_newsletter_optin"},
        },
        "esps": {
            ACTIVECAMPAIGN: {"platform": "activecampaign", "url": "https://sandbox.api-us1.com", "api_key": AC_TOKEN},
            BREVO: {"platform": "brevo", "api_key": SANDBOX_KEY, "base_url": "http://sandbox.test/v3"},
        },
        "pipelines": {PIPELINE: {"shops": [SHOPIFY, WOOCOMMERCE], "esps": [ACTIVECAMPAIGN, BREVO]}},
    }


def _toml(data: dict[str, Any], prefix: str = "") -> list[str]:
    lines: list[str] = []
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    for key, value in data.items():
        if not isinstance(value, dict):
            lines.append(f"{key} = {json.dumps(value)}")
    for key, value in tables.items():
        name = f"{prefix}{key}"
        if any(not isinstance(v, dict) for v in value.values()):
            lines.extend(["", f"[{name}]"])
        lines.extend(_toml(value, prefix=f"{name}."))
    return lines


def build_world(directory: Path, *, customers: int, clock: Clock, rate_limits: bool = True) -> DemoWorld:
    """Sandboxes, configuration files, store and pipeline for the demo, in ``directory``."""
    from connectors.activecampaign.sandbox import create_sandbox as ac_sandbox
    from connectors.brevo.sandbox import create_sandbox as brevo_sandbox
    from connectors.shopify.sandbox import create_sandbox as shopify_sandbox
    from connectors.woocommerce.sandbox import create_sandbox as woo_sandbox

    directory.mkdir(parents=True, exist_ok=True)
    config = _config(directory)
    (directory / "connector.toml").write_text(
        "# Written by `connector demo`: its shops and ESP accounts were in-process sandboxes.\n"
        + "\n".join(_toml(config)) + "\n", encoding="utf-8")
    (directory / "connector.toml").chmod(0o600)  # it holds (sandbox) credentials
    segments_path = directory / "segments.toml"
    if not segments_path.exists():
        default = Path(__file__).resolve().parents[1] / "config" / "segments.toml"
        text = default.read_text(encoding="utf-8") if default.exists() else ""
        segments_path.write_text(text, encoding="utf-8")
    settings = Settings.model_validate(config)

    half = max(customers // 2, 1)
    spec = {"population_seed": 7, "shared_share": 0.2, "end": DEMO_NOW - timedelta(days=1)}
    shopify_shop = GeneratedShop(ShopSpec(name="demo-shop", seed=1, customers=customers - half, **spec))
    woo_shop = GeneratedShop(ShopSpec(name="woo", seed=2, customers=half, **spec))
    limits: dict[str, Any] = {} if rate_limits else {"rate_limits": {}}
    sandboxes: dict[str, SandboxApp] = {
        SHOPIFY: shopify_sandbox(shop=shopify_shop, clock=clock),
        WOOCOMMERCE: woo_sandbox(shop=woo_shop, clock=clock),
        # Imports complete quickly (a small account's queue is short); the rate limits are the real ones.
        ACTIVECAMPAIGN: ac_sandbox(clock=clock, rate_limits=rate_limits, import_seconds=(0.3, 0.001)),
        BREVO: brevo_sandbox(clock=clock, import_seconds=(0.5, 0.0002), **limits),
    }
    # The same wiring as the commands, with each account's requests sent to its in-process sandbox.
    store = Store.open(settings.store_url(), clock=clock)
    opened = open_pipeline(settings, PIPELINE, store, clock,
                           transports={name: sandbox.transport() for name, sandbox in sandboxes.items()})
    world = DemoWorld(directory=directory, clock=clock, settings=settings, definitions=opened.run.definitions,
                      store=store, sandboxes=sandboxes, shops={SHOPIFY: shopify_shop, WOOCOMMERCE: woo_shop},
                      pipeline=opened.run, closers=list(opened.closers))
    world.pipeline.request_counters = world.requests  # what each sandbox received, retries included
    return world


@dataclass
class DayEvents:
    """What :func:`simulate_day` did, for the demo's summary and the tests."""

    new_orders: list[str] = field(default_factory=list)  # emails of buyers
    abandoned_cart: str | None = None
    unsubscribed: dict[str, str] = field(default_factory=dict)  # ESP account -> email unsubscribed there
    email_change: tuple[str, str] | None = None  # (old, new)


def simulate_day(world: DemoWorld, *, pushed_emails: list[str]) -> DayEvents:
    """A day of shop and ESP activity, one day later on the world's clock."""
    from connectors.activecampaign.sandbox import account_of as ac_account
    from connectors.brevo.sandbox import account_of as brevo_account

    events = DayEvents()
    at = world.clock.now()
    shop = world.shops[SHOPIFY]
    people = [c for c in shop.scan("customers") if c.email and "@" in c.email][:6]
    for customer in people[:3]:
        _new_order(shop, customer, at)
        events.new_orders.append(customer.email)
    cart_owner = people[3]
    _abandon_cart(shop, cart_owner, at)
    events.abandoned_cart = cart_owner.email
    mover = people[4]
    new_email = f"moved.{mover.key}@example.org"
    shop.update("customers", mover.key, at, email=new_email)
    events.email_change = (mover.email.lower(), new_email)

    candidates = [e for e in pushed_emails if e not in {mover.email.lower(), *events.new_orders}]
    ac = ac_account(world.sandboxes[ACTIVECAMPAIGN])
    for email in candidates:
        contact = ac.contact_by_email(email)
        subscribed = [m for m in ac.memberships_of(contact.id) if m.status == 1] if contact else []
        if contact and subscribed:
            for membership in subscribed:
                ac.set_list_status(contact.id, membership.list, 2, via="demo: unsubscribed from an email")
            events.unsubscribed[ACTIVECAMPAIGN] = email
            break
    brevo = brevo_account(world.sandboxes[BREVO])
    for email in candidates:
        contact_id = brevo.by_email.get(email)
        contact = brevo.contacts.get(contact_id) if contact_id is not None else None
        if contact is not None and contact.list_ids and email != events.unsubscribed.get(ACTIVECAMPAIGN):
            contact.email_blacklisted = True
            contact.modified_at = at
            events.unsubscribed[BREVO] = email
            break
    return events


def _fields_of(record: Any) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)
            if f.name not in ("key", "created_at", "updated_at")}


def _new_order(shop: GeneratedShop, customer: Any, at: datetime) -> None:
    orders = list(shop.scan("orders"))
    template = shop.orders_of(customer.key)[-1:] or orders[:1]
    fields = _fields_of(template[0])
    fields.update(number=max(o.number for o in orders) + 1, customer_key=customer.key, email=customer.email,
                  status="completed", financial="paid", processed_at=at, cancelled_at=None, test=False, refunds=())
    shop.add("orders", at, **fields)


def _abandon_cart(shop: GeneratedShop, customer: Any, at: datetime) -> None:
    fields = _fields_of(next(iter(shop.scan("carts"))))
    fields.update(customer_key=customer.key, email=customer.email, completed_at=None, token=f"demo{customer.key}")
    shop.add("carts", at - timedelta(hours=2), **fields)


def _sandbox_counts(world: DemoWorld) -> dict[str, dict[str, int]]:
    from connectors.activecampaign.sandbox import account_of as ac_account
    from connectors.brevo.sandbox import account_of as brevo_account

    ac = ac_account(world.sandboxes[ACTIVECAMPAIGN])
    brevo = brevo_account(world.sandboxes[BREVO])
    return {
        ACTIVECAMPAIGN: {"contacts": len(ac.contacts), "resubscriptions": len(ac.resubscriptions)},
        BREVO: {"contacts": len(brevo.contacts), "blocklist_clears": len(brevo.blocklist_clears)},
    }


async def run_demo(directory: Path, customers: int, *, console: Any = None, clock: Clock | None = None,
                   rate_limits: bool = True) -> dict[str, Any]:
    """The demo: backfill and sync into both ESPs, a simulated day, an incremental sync; returns a summary."""
    import time as _time

    from connector.clock import SystemClock
    from connector.pipeline import RunOptions
    from connector.runner import segment_report
    from connector.store.records import RunKind

    say = console.print if console is not None else (lambda *_a, **_k: None)
    started = _time.perf_counter()
    (directory / "connector.db").unlink(missing_ok=True)
    world = build_world(directory, customers=customers, clock=clock or SystemClock(), rate_limits=rate_limits)
    summary: dict[str, Any] = {"directory": str(directory), "customers": customers}
    try:
        say(f"[bold]connector demo[/]: a Shopify shop and a WooCommerce shop ({customers:,} customers, some in "
            "both), an ActiveCampaign and a Brevo account, all local sandboxes.")
        first = await world.pipeline.run(RunOptions(kind=RunKind.BACKFILL, full=True))
        if first.outcome != "succeeded":
            raise ConnectorError(f"the backfill ended {first.outcome}: {first.error}")
        lines = segment_report(world.store, PIPELINE, world.definitions)
        requests = world.requests()
        counts = _sandbox_counts(world)
        pulled = {k: v.records for k, v in first.streams.items()}
        say(f"\n[bold]1. Backfill and first sync[/] in {_time.perf_counter() - started:.1f} s: pulled "
            + ", ".join(f"{k} {v:,}" for k, v in pulled.items()))
        say("Segments: " + ", ".join(f"{line.title} {line.size:,}" for line in lines if line.size))
        esps: dict[str, Any] = {}
        for sink, report in first.sinks.items():
            s = report.summary
            naive = s.creates + sum(s.tags_added.values()) + sum(s.lists_subscribed.values())
            esps[sink] = {"contacts": report.confirmed, "failed": report.failed,
                          "tags": sum(s.tags_added.values()), "list_subscriptions": sum(s.lists_subscribed.values()),
                          "field_values": sum(s.fields_changed.values()), "requests": requests[sink],
                          "one_call_per_contact": naive, "sandbox_contacts": counts[sink]["contacts"]}
            say(f"{sink}: {report.confirmed:,} contacts pushed ({report.failed} failed), "
                f"{esps[sink]['tags']:,} tags, {esps[sink]['list_subscriptions']:,} list subscriptions, "
                f"{esps[sink]['field_values']:,} field values; {requests[sink]:,} API requests (schema included) "
                f"versus {naive:,} for one call per contact, tag and list; the sandbox holds "
                f"{counts[sink]['contacts']:,} contacts")
        summary["first_sync"] = {"pulled": pulled, "segments": {line.segment: line.size for line in lines},
                                 "esps": esps}

        pushed = [p.email for p in world.store.iter_pushed(ACTIVECAMPAIGN)]
        events = simulate_day(world, pushed_emails=pushed)
        say("\n[bold]2. A day later[/]: " + f"{len(events.new_orders)} new orders, an abandoned cart "
            f"({events.abandoned_cart}), {events.email_change[0] if events.email_change else '-'} changed email, "
            + ", ".join(f"{email} unsubscribed in {esp}" for esp, email in events.unsubscribed.items()))
        before = world.requests()
        second = await world.pipeline.run(RunOptions())
        after_counts = _sandbox_counts(world)
        second_esps: dict[str, Any] = {}
        for sink, report in second.sinks.items():
            s = report.summary
            writes = world.requests()[sink] - before[sink]
            second_esps[sink] = {"contacts_changed": s.contacts, "email_changes": s.email_changes,
                                 "creates": s.creates, "requests": writes,
                                 "sandbox_contacts": after_counts[sink]["contacts"]}
            say(f"{sink}: {s.contacts:,} contacts changed ({s.email_changes} email change, {s.creates} new), "
                f"{writes:,} API requests; " + ", ".join(
                    f"{label} {name} {n}" for label, counts_ in (("+", s.tags_added), ("-", s.tags_removed))
                    for name, n in list(counts_.items())[:4]))
        respected = (after_counts[ACTIVECAMPAIGN]["resubscriptions"] == 0
                     and after_counts[BREVO]["blocklist_clears"] == 0)
        say(f"Unsubscribes respected: {'yes' if respected else 'NO'} (ActiveCampaign re-subscriptions "
            f"{after_counts[ACTIVECAMPAIGN]['resubscriptions']}, Brevo blocklist clears "
            f"{after_counts[BREVO]['blocklist_clears']}); one contact per person after the email change: "
            f"{after_counts[ACTIVECAMPAIGN]['contacts']:,} in ActiveCampaign, "
            f"{after_counts[BREVO]['contacts']:,} in Brevo")
        summary["day"] = {"events": dataclasses.asdict(events), "esps": second_esps,
                          "unsubscribes_respected": respected}
        elapsed = _time.perf_counter() - started
        summary["seconds"] = round(elapsed, 1)
        summary["ok"] = second.outcome == "succeeded" and respected and all(
            e["failed"] == 0 for e in esps.values())
        config = directory / "connector.toml"
        program = _program()
        say(f"\nDone in {elapsed:.1f} s. The demo's config and state are in {directory}/. Try:\n"
            f"  {program} --config {config} status\n  {program} --config {config} segments\n"
            f"  {program} --config {config} segments explain {events.new_orders[0] if events.new_orders else ''}")
    finally:
        await world.aclose()
    return summary


def _program() -> str:
    """How the user started connector (e.g. ``.venv/bin/connector``), for the hints the demo prints."""
    import os
    import sys

    invoked = sys.argv[0] if sys.argv else ""
    if Path(invoked).name != "connector":
        return "connector"
    relative = os.path.relpath(invoked)
    return relative if not relative.startswith("..") else invoked
