"""The ``connector`` command line. It parses arguments and renders; the work is in the core.

Exit codes:
    0  success
    1  the command ran and failed (a platform error, a failed run)
    2  usage or configuration error: fix the command line or the config file
    3  the command is not available in this version (it says which release brings it)
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import BaseModel, SecretStr
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from connector import __version__
from connector.config import Settings, load_settings, resolve_config_path
from connector.errors import ConfigError, ConnectorError
from connector.logs import configure_logging
from connector.redact import MASK, Redactor

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


# --------------------------------------------------------------------------- commands filled later

PIPELINE_ISSUE = "the pipeline release (issue #8)"


@app.command()
def check(ctx: typer.Context) -> None:
    """Check the config and that every shop and ESP account answers with its credentials."""
    _not_available(ctx, "check", PIPELINE_ISSUE)


@app.command()
def backfill(
    ctx: typer.Context,
    pipeline: Annotated[str | None, typer.Option(help="Only this pipeline.")] = None,
    since: Annotated[str | None, typer.Option(help="Only records changed since this date (YYYY-MM-DD).")] = None,
    streams: Annotated[str, typer.Option(help="Comma-separated: customers,orders,carts.")] = "customers,orders,carts",
) -> None:
    """Pull the full history from the shops, with progress; resumable after Ctrl-C."""
    _not_available(ctx, "backfill", PIPELINE_ISSUE)


@app.command()
def sync(
    ctx: typer.Context,
    pipeline: Annotated[str | None, typer.Option(help="Only this pipeline.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; write nothing anywhere.")] = False,
    plan_out: Annotated[Path | None, typer.Option("--plan-out", help="Save the plan to this file.")] = None,
    apply: Annotated[Path | None, typer.Option("--apply", help="Apply exactly this saved plan.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Override the consent-change guard.")] = False,
) -> None:
    """Run one incremental sync: pull changes, plan, and push only what changed."""
    _not_available(ctx, "sync", PIPELINE_ISSUE)


@app.command()
def daemon(ctx: typer.Context) -> None:
    """Run every pipeline on its schedule until stopped (SIGTERM or Ctrl-C)."""
    _not_available(ctx, "daemon", "the daemon release (issue #9)")


@app.command()
def status(ctx: typer.Context) -> None:
    """Show the last runs, cursors, quarantined records and failed pushes per pipeline."""
    _not_available(ctx, "status", PIPELINE_ISSUE)


@app.command()
def segments(ctx: typer.Context) -> None:
    """Show each segment's size and its change since the last run."""
    _not_available(ctx, "segments", PIPELINE_ISSUE)


@app.command()
def demo(ctx: typer.Context) -> None:
    """Run the whole job on local sandboxes: no credentials, no config."""
    _not_available(ctx, "demo", PIPELINE_ISSUE)


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
