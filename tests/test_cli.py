"""The command line: help, exit codes, config errors and secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connector.cli import EXIT_CONFIG, EXIT_NOT_AVAILABLE, app

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "connector.example.toml"
COMMANDS = ["check", "sync", "backfill", "daemon", "status", "segments", "demo", "sandbox"]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for key in list(os.environ):
        if key.startswith("CONNECTOR_"):
            monkeypatch.delenv(key)
    return CliRunner()


def test_help_lists_every_command_and_global_option(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for command in COMMANDS:
        assert f" {command} " in result.output
    for option in ("--config", "--verbose", "--json"):
        assert option in result.output


def test_console_script_is_installed() -> None:
    bindir = Path(sys.executable).parent
    result = subprocess.run([str(bindir / "connector"), "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert result.stdout.startswith("connector ")


@pytest.mark.parametrize("argv", [["daemon"]])
def test_commands_not_built_yet_say_so_and_exit_non_zero(runner: CliRunner, argv: list[str]) -> None:
    result = runner.invoke(app, argv)
    assert result.exit_code == EXIT_NOT_AVAILABLE
    assert "not available" in result.output
    assert "nothing was done" in result.output


def test_sandbox_for_a_platform_without_one_says_so(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    import connector.platforms as platforms

    # Every platform of this version has a sandbox: a third-party platform might not.
    bare = {name: dataclasses.replace(info, sandbox=None) for name, info in platforms.load_platforms().items()}
    monkeypatch.setattr(platforms, "load_platforms", lambda: bare)
    result = runner.invoke(app, ["sandbox", "serve", "brevo"])
    assert result.exit_code == EXIT_NOT_AVAILABLE
    assert "no sandbox yet" in result.output and "nothing was done" in result.output


def test_sandbox_for_an_unknown_platform_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["sandbox", "serve", "magento"])
    assert result.exit_code == EXIT_CONFIG
    assert "unknown platform 'magento'" in result.output


@pytest.mark.parametrize("argv", [["check"], ["sync", "--dry-run"], ["backfill"], ["status"], ["segments"]])
def test_pipeline_commands_without_a_config_are_a_configuration_error(
        runner: CliRunner, argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no config/connector.toml here
    monkeypatch.delenv("CONNECTOR_CONFIG", raising=False)
    result = runner.invoke(app, ["--json", *argv])
    assert result.exit_code == EXIT_CONFIG, result.output
    problem = json.loads(result.output.strip().splitlines()[-1])
    assert problem["error"] == "config" and "connector.example.toml" in problem["hint"]


def test_not_available_in_json(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--json", "daemon"])
    assert result.exit_code == EXIT_NOT_AVAILABLE
    assert json.loads(result.output.strip().splitlines()[-1])["error"] == "not_available"


def test_config_show_hides_every_secret(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(EXAMPLE.read_text().replace("shpat_replace_me", "shpat_PLANTED_SECRET_42"))
    config.chmod(0o600)
    env = {"CONNECTOR_ESPS__BREVO__API_KEY": "xkeysib-PLANTED_ENV_99"}
    for argv in (["--config", str(config), "config", "show"], ["--json", "--config", str(config), "config", "show"]):
        result = runner.invoke(app, argv, env=env)
        assert result.exit_code == 0, result.output
        assert "shpat_PLANTED_SECRET_42" not in result.output
        assert "xkeysib-PLANTED_ENV_99" not in result.output
    view = json.loads(result.stdout)
    assert view["shops"]["acme"]["access_token"] == "***"
    assert view["esps"]["brevo"]["api_key"] == "***"
    assert view["shops"]["acme"]["shop"] == "acme"


def test_store_password_is_hidden(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[store]\nurl = "postgresql://bob:Hunter2Secret@db.example/connector"\n')
    result = runner.invoke(app, ["--json", "--config", str(config), "config", "show"])
    assert result.exit_code == 0, result.output
    assert "Hunter2Secret" not in result.output
    assert json.loads(result.stdout)["store"]["url"] == "postgresql://bob:***@db.example/connector"


def test_bad_config_is_one_clear_message_and_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[logging]\nlevl = "DEBUG"\n')
    result = runner.invoke(app, ["--config", str(config), "config", "show"])
    assert result.exit_code == EXIT_CONFIG == 2
    assert str(config) in result.output
    assert "logging.levl: unknown key; did you mean 'level'?" in result.output
    assert "Traceback" not in result.output and "pydantic" not in result.output.lower()


def test_config_from_environment_variable(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[logging]\nlevel = 'INFO'\n")
    result = runner.invoke(app, ["--json", "config", "show"], env={"CONNECTOR_CONFIG": str(config)})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["logging"]["level"] == "INFO"


def test_missing_default_config_exits_2(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == EXIT_CONFIG
    assert "config/connector.toml: config file not found" in result.output
