"""The pipeline commands through the CLI, against the four sandboxes served on 127.0.0.1.

A user's config points at the served sandboxes (as `connector sandbox serve` prints it); the commands
run exactly as on a real account: check, sync --dry-run --plan-out, sync --apply, sync, status.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from connector.cli import EXIT_FAILED, EXIT_OK, app
from connector.sandbox.datagen import GeneratedShop, ShopSpec
from connector.sandbox.serve import ServedSandbox
from connectors.activecampaign.sandbox import SANDBOX_TOKEN as AC_TOKEN
from connectors.activecampaign.sandbox import create_sandbox as ac_sandbox
from connectors.brevo.sandbox import SANDBOX_KEY
from connectors.brevo.sandbox import create_sandbox as brevo_sandbox
from connectors.shopify.sandbox import SANDBOX_TOKEN as SHOPIFY_TOKEN
from connectors.shopify.sandbox import create_sandbox as shopify_sandbox
from connectors.woocommerce.sandbox import SANDBOX_KEY as WC_KEY
from connectors.woocommerce.sandbox import SANDBOX_SECRET as WC_SECRET
from connectors.woocommerce.sandbox import create_sandbox as woo_sandbox


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    spec = {"population_seed": 3, "shared_share": 0.3}
    sandboxes = {
        "shop": shopify_sandbox(shop=GeneratedShop(ShopSpec(name="cli-shop", seed=5, customers=15, **spec))),
        "woo": woo_sandbox(shop=GeneratedShop(ShopSpec(name="woo", seed=6, customers=15, **spec))),
        # Rate limits off: this test is about the commands, the sinks' pacing is tested elsewhere.
        "ac": ac_sandbox(rate_limits=False, import_seconds=(0.05, 0.0)),
        "brevo": brevo_sandbox(rate_limits={}, import_seconds=(0.05, 0.0)),
    }
    with ExitStack() as stack:
        urls = {name: stack.enter_context(ServedSandbox(sandbox)) for name, sandbox in sandboxes.items()}
        config = tmp_path / "connector.toml"
        config.write_text(f"""
[store]
data_dir = "{tmp_path}"

[shops.shop]
platform = "shopify"
shop = "cli-shop"
access_token = "{SHOPIFY_TOKEN}"
base_url = "{urls['shop']}"
use_bulk = false

[shops.woo]
platform = "woocommerce"
url = "{urls['woo']}"
consumer_key = "{WC_KEY}"
consumer_secret = "{WC_SECRET}"
max_requests_per_second = 100
auth = "oauth1"

[esps.ac]
platform = "activecampaign"
url = "{urls['ac']}"
api_key = "{AC_TOKEN}"

[esps.brevo]
platform = "brevo"
api_key = "{SANDBOX_KEY}"
base_url = "{urls['brevo']}/v3"

[pipelines.main]
shops = ["shop", "woo"]
esps = ["ac", "brevo"]
""", encoding="utf-8")
        config.chmod(0o600)
        yield config, sandboxes


def writes(sandboxes: dict[str, Any]) -> int:
    return sum(1 for name in ("ac", "brevo") for e in sandboxes[name].log.entries if e.method != "GET")


def invoke(*argv: str) -> Any:
    return CliRunner().invoke(app, list(argv))


def test_check_dry_run_saved_plan_apply_and_a_quiet_second_sync(served: tuple[Path, dict[str, Any]],
                                                                 tmp_path: Path) -> None:
    config, sandboxes = served
    c = str(config)
    checked = invoke("--json", "--config", c, "check")
    assert checked.exit_code == EXIT_OK, checked.output
    results = {r["name"]: r for r in json.loads(checked.output.strip().splitlines()[-1])}
    assert all(r["ok"] for r in results.values()) and set(results) >= {"shop shop", "shop woo", "esp ac", "esp brevo"}
    assert "read_customers" in results["shop shop"]["detail"]

    plan_file = tmp_path / "plan.json"
    dry = invoke("--json", "--config", c, "sync", "--dry-run", "--plan-out", str(plan_file))
    assert dry.exit_code == EXIT_OK, dry.output
    assert writes(sandboxes) == 0  # nothing was written to either ESP
    report = json.loads(dry.output.strip().splitlines()[-1])[0]
    assert report["dry_run"] is True and report["outcome"] == "succeeded"
    saved = json.loads(plan_file.read_text())["plans"]
    assert set(saved) == {"ac", "brevo"} and all(plan["changes"] for plan in saved.values())
    creates = {sink: len(plan["changes"]) for sink, plan in saved.items()}

    applied = invoke("--json", "--config", c, "sync", "--apply", str(plan_file))
    assert applied.exit_code == EXIT_OK, applied.output
    done = json.loads(applied.output.strip().splitlines()[-1])[0]["sinks"]
    assert {sink: done[sink]["confirmed"] for sink in done} == creates
    again = invoke("--json", "--config", c, "sync", "--apply", str(plan_file))
    assert again.exit_code == EXIT_FAILED and "stale" in again.output

    first = invoke("--json", "--config", c, "sync")  # the first real pull (the dry run's was rolled back)
    assert first.exit_code == EXIT_OK, first.output
    before = writes(sandboxes)
    quiet = invoke("--json", "--config", c, "sync")
    assert quiet.exit_code == EXIT_OK, quiet.output
    assert writes(sandboxes) == before  # nothing changed at the shops: nothing written to the ESPs
    status = invoke("--json", "--config", c, "status")
    assert status.exit_code == EXIT_OK, status.output
    runs = json.loads(status.output.strip().splitlines()[-1])[0]["runs"]
    assert [r["kind"] for r in runs][:2] == ["sync", "sync"] and runs[0]["status"] == "succeeded"


def test_a_sync_killed_between_apply_and_record_then_rerun_duplicates_nothing_and_loses_nothing(
        served: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors.activecampaign.sandbox import account_of as ac_account
    from connectors.activecampaign.sink import ActiveCampaignSink
    from connectors.brevo.sandbox import account_of as brevo_account
    from connectors.brevo.sink import BrevoSink

    config, sandboxes = served
    c = str(config)
    originals = {cls: cls.apply for cls in (ActiveCampaignSink, BrevoSink)}

    def dying(original: Any) -> Any:
        async def apply(self: Any, plan: Any) -> Any:
            async for _ in original(self, plan):
                pass  # the ESP did everything...
            raise KeyboardInterrupt  # ...and the process stopped before the results were recorded
            yield  # pragma: no cover - makes this an async generator
        return apply

    for cls, original in originals.items():
        monkeypatch.setattr(cls, "apply", dying(original))
    stopped = invoke("--config", c, "sync")
    assert stopped.exit_code == EXIT_FAILED and "next run resumes" in stopped.output
    for cls, original in originals.items():
        monkeypatch.setattr(cls, "apply", original)

    rerun = invoke("--json", "--config", c, "sync")
    assert rerun.exit_code == EXIT_OK, rerun.output
    sinks = json.loads(rerun.output.strip().splitlines()[-1])[0]["sinks"]
    # Nothing had been recorded, so every contact was planned again and confirmed (no change lost)...
    assert all(s["confirmed"] == s["summary"]["contacts"] > 0 and s["failed"] == 0 for s in sinks.values())
    # ...and the upserts by email made no second contact for anyone.
    ac_emails = [contact.email for contact in ac_account(sandboxes["ac"]).contacts.values()]
    brevo_emails = [contact.email for contact in brevo_account(sandboxes["brevo"]).contacts.values()]
    assert len(ac_emails) == len(set(ac_emails)) == sinks["ac"]["confirmed"]
    assert len(brevo_emails) == len(set(brevo_emails)) == sinks["brevo"]["confirmed"]
    before = writes(sandboxes)
    assert invoke("--config", c, "sync").exit_code == EXIT_OK
    assert writes(sandboxes) == before
