"""The ``connector`` command line. It parses arguments and renders; the work is in the core.

Exit codes:
    0  success
    1  the command ran and failed (a platform error, a failed run)
    2  usage or configuration error: fix the command line or the config file
    3  the command is not available in this version (it says which release brings it)
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import BaseModel, SecretStr
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from connector import __version__
from connector.clock import SystemClock
from connector.config import Settings, load_settings, resolve_config_path
from connector.errors import ConfigError, ConnectorError
from connector.logs import configure_logging
from connector.pipeline import RunOptions, RunReport
from connector.protocols import Plan, Stream
from connector.redact import MASK, Redactor
from connector.store import Store
from connector.store.records import RunKind

__all__ = ["EXIT_CONFIG", "EXIT_FAILED", "EXIT_NOT_AVAILABLE", "EXIT_OK", "app", "main"]

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_NOT_AVAILABLE = 0, 1, 2, 3

app = typer.Typer(
    name="connector",
    help="Turn a shop's customers, orders and carts into email-marketing segments, "
    "lists, tags and fields in ActiveCampaign and Brevo.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sandbox_app = typer.Typer(help="Local emulators of the platforms' APIs, for trying things out.", no_args_is_help=True)
config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(config_app, name="config")


@dataclass(frozen=True)
class CliState:
    config: str | None
    verbose: bool
    json: bool

    def settings(self) -> Settings:
        return load_settings(resolve_config_path(self.config))


def _state(ctx: typer.Context) -> CliState:
    state = ctx.find_root().obj
    return state if isinstance(state, CliState) else CliState(config=None, verbose=False, json=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"connector {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        str | None,
        typer.Option("--config", "-c", help="Config file [default: $CONNECTOR_CONFIG or config/connector.toml]"),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging and full tracebacks.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output and JSON log lines.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    ctx.obj = CliState(config=config, verbose=verbose, json=as_json)
    configure_logging(level="DEBUG" if verbose else "INFO", fmt="json" if as_json else "auto")


# --------------------------------------------------------------------------- output helpers


def _fail(state: CliState, code: int, message: str, *, kind: str, hint: str | None = None) -> NoReturn:
    if state.json:
        payload = {"ok": False, "error": kind, "message": message, **({"hint": hint} if hint else {})}
        typer.echo(json.dumps(payload), err=True)
    else:
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        err.print(f"[bold red]error:[/] {message}", markup=True)
        if hint:
            err.print(f"[dim]hint: {hint}[/]", markup=True)
    raise typer.Exit(code)


def _load(state: CliState) -> Settings:
    try:
        settings = state.settings()
    except ConfigError as exc:
        _fail(state, EXIT_CONFIG, str(exc), kind="config",
              hint="see config/connector.example.toml for every key, with comments")
    level = "DEBUG" if state.verbose else settings.logging.level
    fmt = "json" if state.json else settings.logging.format
    configure_logging(level=level, fmt=fmt, redactor=Redactor(settings.secrets()))
    return settings


def _not_available(ctx: typer.Context, command: str, issue: str) -> NoReturn:
    _fail(
        _state(ctx),
        EXIT_NOT_AVAILABLE,
        f"`connector {command}` is not available in connector {__version__} yet; nothing was done.",
        kind="not_available",
        hint=f"it arrives with {issue}. `connector config show` already checks your configuration.",
    )


# --------------------------------------------------------------------------- pipeline commands


def _print_json(payload: object) -> None:
    typer.echo(json.dumps(payload, default=str, ensure_ascii=False))


def _pipelines(state: CliState, only: str | None) -> tuple[Settings, list[str]]:
    """The loaded settings and the pipelines a command works on (``only``, or every one)."""
    from connector.runner import pipeline_names

    settings = _load(state)
    try:
        return settings, pipeline_names(settings, only)
    except ConfigError as exc:
        _fail(state, EXIT_CONFIG, str(exc), kind="config")


def _open_store(state: CliState, settings: Settings) -> Store:
    try:
        return Store.open(settings.store_url(), clock=SystemClock())
    except ConnectorError as exc:
        _fail(state, EXIT_FAILED, f"cannot open the state store: {exc}", kind="store",
              hint="check [store] in the config; `connector config show` prints where it is")


def _run_pipelines(ctx: typer.Context, pipeline: str | None, options: RunOptions, *,
                   progress: bool = False, plan_out: Path | None = None) -> list[RunReport]:
    from connector.runner import open_pipeline

    state = _state(ctx)
    settings, names = _pipelines(state, pipeline)
    reports: list[RunReport] = []
    with _open_store(state, settings) as store:
        for name in names:
            try:
                opened = open_pipeline(settings, name, store, SystemClock())
            except ConfigError as exc:
                _fail(state, EXIT_CONFIG, str(exc), kind="config")
            try:
                reports.append(asyncio.run(_run_one(opened, options, progress and not state.json)))
            except KeyboardInterrupt:
                _fail(state, EXIT_FAILED, f"pipeline {name}: stopped; what was committed is kept and the next run "
                      "resumes from there", kind="interrupted")
            except ConnectorError as exc:
                if state.verbose:
                    raise
                _fail(state, EXIT_FAILED, f"pipeline {name}: {exc}", kind="run",
                      hint="`connector status` shows the run; add --verbose for the trace")
    if plan_out is not None:
        plans = {sink: report.plan.model_dump(mode="json") for r in reports
                 for sink, report in r.sinks.items() if report.plan is not None}
        plan_out.write_text(json.dumps({"pipelines": [r.pipeline for r in reports], "plans": plans}, indent=1),
                            encoding="utf-8")
    return reports


async def _run_one(opened: Any, options: RunOptions, progress: bool) -> RunReport:
    try:
        if not progress:
            return await opened.run.run(options)
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,} records"),
                      TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), transient=False) as bar:
            tasks: dict[str, Any] = {}

            def hook(shop: str, stream: str, count: int) -> None:
                key = f"{shop} {stream}"
                if key not in tasks:
                    tasks[key] = bar.add_task(key, total=None, rate="")
                task = bar.tasks[tasks[key]]
                rate = count / task.elapsed if task.elapsed else 0
                bar.update(tasks[key], completed=count, rate=f"{rate:,.0f}/s")

            return await opened.run.run(options, hook)
    finally:
        await opened.aclose()


def _render_runs(state: CliState, reports: list[RunReport], *, samples: bool = False) -> None:
    if state.json:
        _print_json([r.model_dump(mode="json") for r in reports])
        return
    console = Console(highlight=False)
    for report in reports:
        seconds = (report.finished_at - report.started_at).total_seconds() if report.finished_at else 0
        console.print(f"[bold]{report.pipeline}[/]: {report.kind} {'(dry run) ' if report.dry_run else ''}"
                      f"{report.outcome} in {seconds:.1f} s")
        pulled = Table("stream", "records", "quarantined", title="pulled")
        for key, count in report.streams.items():
            pulled.add_row(key, f"{count.records:,}", f"{count.quarantined:,}")
        if report.streams:
            console.print(pulled)
        for sink, sr in report.sinks.items():
            _render_plan(console, sink, sr, samples=samples)
        if report.requests:
            console.print("API requests: " + ", ".join(f"{k} {v:,}" for k, v in report.requests.items()))
        if report.error:
            console.print(f"[red]{report.error}[/]")


def _render_plan(console: Console, sink: str, sr: Any, *, samples: bool) -> None:
    summary = sr.summary
    if sr.refused:
        console.print(f"[bold red]{sink}: plan refused[/] — {sr.refused}")
        return
    console.print(f"[bold]{sink}[/]: {summary.creates:,} contacts to create, {summary.updates:,} to update, "
                  f"{summary.email_changes:,} email changes; confirmed {sr.confirmed:,}, failed {sr.failed:,}")
    table = Table("change", "name", "contacts", title=f"plan for {sink}")
    for label, counts in (("tag +", summary.tags_added), ("tag −", summary.tags_removed),
                          ("list subscribe", summary.lists_subscribed),
                          ("list unsubscribe", summary.lists_unsubscribed),
                          ("field", summary.fields_changed), ("consent →", summary.consent_changes)):
        for name, count in counts.items():
            table.add_row(label, name, f"{count:,}")
    if table.row_count:
        console.print(table)
    if samples and sr.plan is not None:
        for change in sr.plan.changes[:5]:
            parts = [f"+{t}" for t in sorted(change.tags_add)] + [f"-{t}" for t in sorted(change.tags_remove)]
            parts += [f"list+{n}" for n in sorted(change.lists_subscribe)]
            parts += [f"list-{n}" for n in sorted(change.lists_unsubscribe)]
            parts += [f"{k}={v}" for k, v in change.fields.items() if k not in ("first_name", "last_name")][:4]
            what = "create" if change.create else ("email change" if change.previous_email else "update")
            console.print(f"  e.g. {change.email} ({what}): {', '.join(parts[:8]) or 'no field change'}")
    for email, reason in sr.failures:
        console.print(f"  [red]failed[/] {email}: {reason}")


def _run_exit(reports: list[RunReport]) -> None:
    if any(r.outcome not in ("succeeded",) for r in reports) or any(
            s.failed for r in reports for s in r.sinks.values()):
        raise typer.Exit(EXIT_FAILED)


@app.command()
def check(ctx: typer.Context) -> None:
    """Check the config and that every shop and ESP account answers with its credentials."""
    from connector.checks import run_checks

    state = _state(ctx)
    settings = _load(state)
    results = asyncio.run(run_checks(settings))
    if state.json:
        _print_json([r.model_dump() for r in results])
    else:
        table = Table("check", "result", "detail / fix")
        for r in results:
            table.add_row(r.name, "[green]ok[/]" if r.ok else "[red]failed[/]", r.detail if r.ok else r.fix)
        Console(highlight=False).print(table)
    if not all(r.ok for r in results):
        raise typer.Exit(EXIT_FAILED)


@app.command()
def backfill(
    ctx: typer.Context,
    pipeline: Annotated[str | None, typer.Option(help="Only this pipeline.")] = None,
    since: Annotated[str | None, typer.Option(help="Orders and carts since this date (YYYY-MM-DD); customers "
                                                   "are always read in full.")] = None,
    streams: Annotated[str, typer.Option(help="Comma-separated: customers,orders,carts.")] = "customers,orders,carts",
    restart: Annotated[bool, typer.Option("--restart", help="Ignore saved positions: read everything again.")] = False,
) -> None:
    """Pull the full history from the shops, with progress, then sync everyone; resumable after Ctrl-C."""
    state = _state(ctx)
    try:
        chosen = tuple(Stream(s.strip()) for s in streams.split(",") if s.strip())
        start = datetime.combine(date.fromisoformat(since), time(), tzinfo=UTC) if since else None
    except ValueError as exc:
        _fail(state, EXIT_CONFIG, f"bad option: {exc}", kind="usage",
              hint="--streams takes customers,orders,carts; --since a date like 2024-01-31")
    options = RunOptions(kind=RunKind.BACKFILL, full=True, streams=chosen, since=start, restart=restart)
    reports = _run_pipelines(ctx, pipeline, options, progress=True)
    _render_runs(state, reports)
    _run_exit(reports)


@app.command()
def sync(
    ctx: typer.Context,
    pipeline: Annotated[str | None, typer.Option(help="Only this pipeline.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; write nothing anywhere.")] = False,
    plan_out: Annotated[Path | None, typer.Option("--plan-out", help="Save the plan to this file.")] = None,
    apply: Annotated[Path | None, typer.Option("--apply", help="Apply exactly this saved plan.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Override the consent-change guard.")] = False,
    full: Annotated[bool, typer.Option("--full", help="Recompute everyone (the daily full refresh).")] = False,
) -> None:
    """Run one incremental sync: pull changes, plan, and push only what changed."""
    state = _state(ctx)
    plans = None
    if apply is not None:
        try:
            data = json.loads(apply.read_text(encoding="utf-8"))
            plans = {sink: Plan.model_validate(plan) for sink, plan in data["plans"].items()}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            _fail(state, EXIT_CONFIG, f"cannot read the saved plan {apply}: {exc}", kind="usage",
                  hint="save one with `connector sync --dry-run --plan-out FILE`")
        if dry_run:
            _fail(state, EXIT_CONFIG, "--apply and --dry-run together make no sense", kind="usage")
    options = RunOptions(kind=RunKind.FULL_REFRESH if full else RunKind.SYNC, full=full, dry_run=dry_run,
                         force=force, plans=plans, sinks=tuple(plans) if plans else None)
    reports = _run_pipelines(ctx, pipeline, options, plan_out=plan_out)
    _render_runs(state, reports, samples=dry_run)
    _run_exit(reports)


@app.command()
def daemon(ctx: typer.Context) -> None:
    """Run every pipeline on its schedule until stopped (SIGTERM or Ctrl-C)."""
    _not_available(ctx, "daemon", "the daemon release (issue #9)")


@app.command()
def status(ctx: typer.Context,
           pipeline: Annotated[str | None, typer.Option(help="Only this pipeline.")] = None) -> None:
    """Show the last runs, cursors, quarantined records and failed pushes per pipeline."""
    from connector.runner import status_report

    state = _state(ctx)
    settings, names = _pipelines(state, pipeline)
    with _open_store(state, settings) as store:
        now = SystemClock().now()
        reports = [status_report(store, settings, name, now) for name in names]
    if state.json:
        _print_json(reports)
        return
    console = Console(highlight=False)
    for rep in reports:
        health = "[red]stale[/]" if rep["stale"] else "[green]fresh[/]"
        console.print(f"[bold]{rep['pipeline']}[/]: {health}, last success {rep['last_success'] or 'never'}, "
                      f"next run due {rep['next_run_due'] or 'now'}")
        runs = Table("run", "kind", "status", "started", "duration", "counts", "API requests")
        for run in rep["runs"]:
            took = (run["finished_at"] - run["started_at"]).total_seconds() if run["finished_at"] else None
            counts = ", ".join(f"{k} {v:,}" for k, v in run["counts"].items() if v)[:80]
            runs.add_row(str(run["id"]), run["kind"], run["status"], str(run["started_at"])[:19],
                         f"{took:.1f} s" if took is not None else "-", counts,
                         ", ".join(f"{k} {v:,}" for k, v in run["requests"].items()))
        console.print(runs)
        cur = Table("scope", "stream", "position", "saved at", title="cursors")
        for c in rep["cursors"]:
            cur.add_row(c["scope"], c["stream"], c["value"][:60], str(c["updated_at"])[:19])
        console.print(cur)
        console.print(f"quarantined records and failed pushes (open): {rep['quarantined_open']:,}")
        for q in rep["quarantined"][:10]:
            console.print(f"  {q['entity']} {q['record_id']} {q['field'] or ''}: {q['reason']}")


segments_app = typer.Typer(help="Segment sizes, and why a person is in or out.", invoke_without_command=True)
app.add_typer(segments_app, name="segments")


@segments_app.callback()
def segments(ctx: typer.Context,
             pipeline: Annotated[str | None, typer.Option(help="Only this pipeline.")] = None) -> None:
    """Show each segment's size and its change since the last run."""
    if ctx.invoked_subcommand is not None:
        return
    from connector.runner import load_pipeline_definitions, segment_report

    state = _state(ctx)
    settings, names = _pipelines(state, pipeline)
    try:
        lines = {}
        with _open_store(state, settings) as store:
            for name in names:
                lines[name] = segment_report(store, name, load_pipeline_definitions(settings, name))
    except ConfigError as exc:
        _fail(state, EXIT_CONFIG, str(exc), kind="config")
    if state.json:
        _print_json({name: [line.model_dump() for line in rows] for name, rows in lines.items()})
        return
    for name, rows in lines.items():
        table = Table("segment", "size", "entered", "left", "rule", title=f"segments of {name}")
        for line in rows:
            table.add_row(line.title, f"{line.size:,}", f"+{line.entered:,}", f"-{line.left:,}", line.rule)
        Console(highlight=False).print(table)


@segments_app.command("explain")
def segments_explain(ctx: typer.Context, email: Annotated[str, typer.Argument(help="The person's email.")],
                     pipeline: Annotated[str | None, typer.Option(help="Only this pipeline.")] = None) -> None:
    """A person's metrics, segments with the values that decided them, consent, and the next change per ESP."""
    from connector.runner import load_pipeline_definitions
    from connector.segments.desired import ContactBuilder

    state = _state(ctx)
    parent = ctx.parent.params.get("pipeline") if ctx.parent else None
    settings, names = _pipelines(state, pipeline or parent)
    found: list[dict[str, Any]] = []
    try:
        with _open_store(state, settings) as store:
            for name in names:
                definitions = load_pipeline_definitions(settings, name)
                for esp in settings.pipelines[name].esps:
                    builder = ContactBuilder(definitions, esp, SystemClock().now().date())
                    report = store.explain_contact(name, builder, email)
                    if report is not None:
                        found.append({"pipeline": name, "esp": esp, "report": report})
    except ConfigError as exc:
        _fail(state, EXIT_CONFIG, str(exc), kind="config")
    if not found:
        _fail(state, EXIT_FAILED, f"no person with the email {email!r} in any pipeline", kind="not_found",
              hint="emails are matched after normalisation (trimmed, lower case); run a sync first")
    if state.json:
        _print_json([_explanation(item) for item in found])
        return
    console = Console(highlight=False)
    first = found[0]["report"].planned.profile
    console.print(f"[bold]{first.email}[/] ({first.person_id}): {first.orders_count} orders, "
                  f"{first.total_spent} spent, lifecycle {first.lifecycle}, RFM group {first.rfm_group}, "
                  f"consent {first.consent_state.value} ({first.consent_source})")
    reasons = Table("segment", "in?", "rule", "values seen")
    for reason in found[0]["report"].reasons:
        seen = "; ".join(f"{step.fragment} → {step.value!s} ({'yes' if step.result else 'no'})"
                         for step in reason.steps)
        reasons.add_row(reason.segment, "[green]yes[/]" if reason.member else "no", reason.rule, seen)
    console.print(reasons)
    for item in found:
        planned = item["report"].planned
        console.print(f"[bold]{item['esp']}[/]: consent {planned.decision.state.value} — {planned.decision.reason} "
                      f"({planned.decision.system}, {planned.decision.field})")
        change = planned.change
        if change is None:
            console.print("  next sync: nothing to change")
        else:
            console.print(f"  next sync: {'create' if change.create else 'update'}; tags +{sorted(change.tags_add)} "
                          f"-{sorted(change.tags_remove)}; lists +{sorted(change.lists_subscribe)} "
                          f"-{sorted(change.lists_unsubscribe)}; fields {sorted(change.fields)}")


def _explanation(item: dict[str, Any]) -> dict[str, Any]:
    report = item["report"]
    planned = report.planned
    return {
        "pipeline": item["pipeline"], "esp": item["esp"],
        "profile": planned.profile.model_dump(mode="json"),
        "segments": [{"segment": r.segment, "member": r.member, "rule": r.rule,
                      "steps": [{"condition": s.fragment, "value": str(s.value), "result": s.result} for s in r.steps]}
                     for r in report.reasons],
        "consent": planned.decision.model_dump(mode="json"),
        "desired": planned.desired.model_dump(mode="json"),
        "next_change": planned.change.model_dump(mode="json") if planned.change else None,
        "history": [h.model_dump(mode="json") for h in report.history],
    }


@app.command()
def demo(
    ctx: typer.Context,
    customers: Annotated[int, typer.Option(help="Customers across the two demo shops.")] = 250,
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo writes its config and data.")] = Path(
        "connector-demo"),
) -> None:
    """Run the whole job on local sandboxes: no credentials, no config."""
    from connectors.demo import run_demo

    state = _state(ctx)
    if customers < 10:
        _fail(state, EXIT_CONFIG, "--customers must be at least 10", kind="usage")
    try:
        summary = asyncio.run(run_demo(directory, customers, console=None if state.json else Console(highlight=False)))
    except ConnectorError as exc:
        if state.verbose:
            raise
        _fail(state, EXIT_FAILED, f"demo: {exc}", kind="demo", hint="add --verbose for the trace")
    if state.json:
        _print_json(summary)
    if not summary["ok"]:
        raise typer.Exit(EXIT_FAILED)


@sandbox_app.command("serve")
def sandbox_serve(
    ctx: typer.Context,
    platform: Annotated[str, typer.Argument(help="shopify, woocommerce, activecampaign or brevo")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).")] = 0,
    customers: Annotated[int, typer.Option(help="Customers to generate.")] = 1000,
    state: Annotated[Path | None, typer.Option(help="JSON file to load state from and save it to.")] = None,
) -> None:
    """Serve a platform emulator on 127.0.0.1 until stopped."""
    import inspect  # local imports: only this command may touch the edit zone of cli.py

    from connector.platforms import load_platforms
    from connector.sandbox.serve import serve

    cli = _state(ctx)
    info = load_platforms().get(platform)
    if info is None:
        _fail(cli, EXIT_CONFIG, f"unknown platform {platform!r}", kind="usage",
              hint=f"one of: {', '.join(load_platforms())}")
    try:
        factory = info.load_sandbox()
    except (LookupError, ImportError) as exc:
        _fail(cli, EXIT_NOT_AVAILABLE, f"{info.title}: no sandbox yet ({exc}); nothing was done.",
              kind="not_available")
    offered = {"customers": customers, "state_file": state, "served": True}
    accepted = inspect.signature(factory).parameters
    try:
        sandbox = factory(**{k: v for k, v in offered.items() if k in accepted})
    except ImportError as exc:  # e.g. the data generator is not installed in this version
        _fail(cli, EXIT_NOT_AVAILABLE, f"{info.title} sandbox: {exc}; nothing was done.", kind="not_available")
    try:
        serve(sandbox, port=port, banner=typer.echo)
    except (OSError, ValueError) as exc:
        _fail(cli, EXIT_FAILED, f"cannot serve the {info.title} sandbox on 127.0.0.1:{port}: {exc}", kind="serve")


# --------------------------------------------------------------------------- config


@config_app.command("show")
def config_show(ctx: typer.Context) -> None:
    """Validate the configuration and show it, with every secret hidden."""
    state = _state(ctx)
    settings = _load(state)
    view = _public_view(settings)
    if state.json:
        typer.echo(json.dumps(view, indent=2, default=str))
        return
    out = Console(highlight=False)
    out.print(f"[bold]config[/]  {resolve_config_path(state.config)}  [green]valid[/]")
    out.print(f"[bold]store[/]   {view['store']['url']}")
    for title, key in (("Shops", "shops"), ("ESP accounts", "esps")):
        table = Table(title=title, title_justify="left")
        for col in ("name", "platform", "settings"):
            table.add_column(col)
        for name, account in view[key].items():
            rest = {k: v for k, v in account.items() if k != "platform"}
            table.add_row(name, account["platform"], ", ".join(f"{k}={v}" for k, v in rest.items()))
        out.print(table)
    table = Table(title="Pipelines", title_justify="left")
    for col in ("name", "shops", "esps", "schedule"):
        table.add_column(col)
    for name, pipe in view["pipelines"].items():
        sched = pipe["schedule"]
        every = sched["cron"] or f"every {sched['interval_minutes']} min"
        table.add_row(name, ", ".join(pipe["shops"]), ", ".join(pipe["esps"]),
                      f"{every}; full refresh {sched['full_refresh_at'][:5]} {sched['timezone']}")
    out.print(table)


def _public_view(settings: Settings) -> dict[str, object]:
    """The settings as plain data, secrets replaced by a mask, the store URL redacted."""
    def plain(value: object) -> object:
        if isinstance(value, SecretStr):
            return MASK
        if isinstance(value, BaseModel):
            return {k: plain(getattr(value, k)) for k in type(value).model_fields}
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value if isinstance(value, str | int | float | bool | None) else str(value)

    view = plain(settings)
    assert isinstance(view, dict)  # noqa: S101 - a model always renders to a dict
    store_url = make_url(settings.store_url()).render_as_string(hide_password=True)
    view["store"] = {"url": store_url,
                     "data_dir": str(settings.store.data_dir)}
    return view


# --------------------------------------------------------------------------- entry point


def main() -> None:
    """Console-script entry point: run the app, turning stray errors into one clear line."""
    try:
        app(standalone_mode=True)
    except ConnectorError as exc:  # pragma: no cover - commands handle their own errors
        verbose = "-v" in sys.argv or "--verbose" in sys.argv
        logging.getLogger("connector").debug("unhandled", exc_info=verbose)
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_CONFIG if isinstance(exc, ConfigError) else EXIT_FAILED)


if __name__ == "__main__":  # pragma: no cover
    main()
