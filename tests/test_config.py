"""Configuration: file, environment overrides, secrets, and the messages for bad configs."""

from __future__ import annotations

import logging
import os
from datetime import time
from pathlib import Path

import pytest

from connector.config import DEFAULT_CONFIG_PATH, load_settings, resolve_config_path
from connector.errors import ConfigError
from connectors.activecampaign import ActiveCampaignSettings
from connectors.shopify import ShopifySettings
from connectors.woocommerce import WooCommerceSettings

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "connector.example.toml"

GOOD = """
[store]
data_dir = "state"

[shops.acme]
platform = "shopify"
shop = "acme.myshopify.com"
access_token = "shpat_FILE_TOKEN_1234"

[shops.boutique]
platform = "woocommerce"
url = "https://boutique.example.com"
consumer_key = "ck_FILE_KEY_5678"
consumer_secret = "cs_FILE_SECRET_9012"

[esps.newsletter]
platform = "activecampaign"
url = "https://acme.api-us1.com"
api_key = "ac_FILE_KEY_3456"

[pipelines.main]
shops = ["acme", "boutique"]
esps = ["newsletter"]

[pipelines.main.schedule]
interval_minutes = 30
full_refresh_at = "04:30"
timezone = "Europe/Paris"
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("CONNECTOR_"):
            monkeypatch.delenv(key)


def write(tmp_path: Path, text: str, name: str = "connector.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o600)
    return path


def problems_of(path: Path) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(path) in str(err.value)  # every message names the file
    return err.value.problems


def test_loads_shops_esps_and_pipelines_with_their_platform_models(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    acme = settings.shops["acme"]
    assert isinstance(acme, ShopifySettings)
    assert acme.shop == "acme"  # the .myshopify.com suffix is accepted and removed
    assert acme.api_version == "2025-01"
    assert isinstance(settings.shops["boutique"], WooCommerceSettings)
    assert settings.shops["boutique"].concurrency == 2
    assert isinstance(settings.esps["newsletter"], ActiveCampaignSettings)
    schedule = settings.pipelines["main"].schedule
    assert (schedule.interval_minutes, schedule.full_refresh_at, schedule.timezone) == (30, time(4, 30), "Europe/Paris")


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    assert settings.store.data_dir == tmp_path / "state"
    assert settings.store_url() == f"sqlite:///{tmp_path / 'state' / 'connector.db'}"
    assert settings.segments_file == tmp_path / "segments.toml"


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_SHOPS__ACME__ACCESS_TOKEN", "shpat_FROM_ENV_0000")
    monkeypatch.setenv("CONNECTOR_LOGGING__LEVEL", "debug")
    monkeypatch.setenv("CONNECTOR_PIPELINES__MAIN__SCHEDULE__INTERVAL_MINUTES", "5")
    settings = load_settings(write(tmp_path, GOOD))
    assert settings.shops["acme"].access_token.get_secret_value() == "shpat_FROM_ENV_0000"
    assert settings.shops["acme"].shop == "acme"  # the rest of the table still comes from the file
    assert settings.logging.level == "DEBUG"
    assert settings.pipelines["main"].schedule.interval_minutes == 5


def test_a_secret_can_live_only_in_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = GOOD.replace('api_key = "ac_FILE_KEY_3456"\n', "")
    monkeypatch.setenv("CONNECTOR_ESPS__NEWSLETTER__API_KEY", "ac_ENV_ONLY_7777")
    settings = load_settings(write(tmp_path, text))
    assert settings.esps["newsletter"].api_key.get_secret_value() == "ac_ENV_ONLY_7777"


def test_secrets_never_show_in_repr_str_or_dumps(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    secrets = ["shpat_FILE_TOKEN_1234", "ck_FILE_KEY_5678", "cs_FILE_SECRET_9012", "ac_FILE_KEY_3456"]
    rendered = [repr(settings), str(settings), settings.model_dump_json(), repr(settings.shops["acme"])]
    for text in rendered:
        for secret in secrets:
            assert secret not in text
    assert sorted(settings.secrets()) == sorted(secrets)


def test_config_path_resolution_order() -> None:
    assert resolve_config_path("a.toml", {"CONNECTOR_CONFIG": "b.toml"}) == Path("a.toml")
    assert resolve_config_path(None, {"CONNECTOR_CONFIG": "b.toml"}) == Path("b.toml")
    assert resolve_config_path(None, {}) == DEFAULT_CONFIG_PATH == Path("config/connector.toml")


def test_the_example_config_is_valid_and_uses_every_platform() -> None:
    settings = load_settings(EXAMPLE)
    assert {s.platform for s in settings.shops.values()} == {"shopify", "woocommerce"}
    assert {e.platform for e in settings.esps.values()} == {"activecampaign", "brevo"}


# --------------------------------------------------------------------------- bad configs


def test_unknown_key_names_the_key_and_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("access_token =", "acess_token ="))
    problems = problems_of(path)
    assert "shops.acme.acess_token: unknown key; did you mean 'access_token'?" in problems
    # ... and the key that is now missing is named, with what it should hold.
    missing = [p for p in problems if p.startswith("shops.acme.access_token:")]
    assert missing and "required key is missing" in missing[0] and "access token" in missing[0]


def test_wrong_type_names_the_key_and_what_is_expected(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("interval_minutes = 30", 'interval_minutes = "often"'))
    (problem,) = problems_of(path)
    assert problem.startswith("pipelines.main.schedule.interval_minutes: ")
    assert "integer" in problem


def test_bad_value_message_never_repeats_the_value(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('url = "https://acme.api-us1.com"', 'url = "SECRETISH_VALUE"'))
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert "esps.newsletter.url" in str(err.value)
    assert "SECRETISH_VALUE" not in str(err.value)


def test_unknown_platform_lists_the_choices(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('platform = "shopify"', 'platform = "magento"'))
    (problem,) = problems_of(path)
    assert problem == "shops.acme: platform must be one of: shopify, woocommerce"


def test_an_esp_cannot_be_used_as_a_shop(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('platform = "shopify"', 'platform = "brevo"'))
    assert "shops.acme: platform must be one of: shopify, woocommerce" in problems_of(path)


def test_pipeline_referring_to_a_missing_shop(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('shops = ["acme", "boutique"]', 'shops = ["acme", "ghost"]'))
    (problem,) = problems_of(path)
    assert problem == "pipelines.main.shops: no [shops.ghost] table; expected one of: acme, boutique"


def test_bad_names_and_time_zone(tmp_path: Path) -> None:
    text = GOOD.replace("[shops.boutique]", '[shops."Bad Name"]').replace("Europe/Paris", "Mars/Olympus")
    problems = problems_of(write(tmp_path, text))
    assert any(p.startswith("shops.Bad Name") for p in problems)
    assert any(p.startswith("pipelines.main.schedule.timezone: expected an IANA time zone") for p in problems)


def test_invalid_toml_gives_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[store\ndata_dir = 1\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert "not valid TOML" in str(err.value) and "line 1" in str(err.value)


def test_missing_file_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "nope.toml")
    assert "not found" in str(err.value) and "connector.example.toml" in str(err.value)


def test_world_readable_config_with_secrets_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path, GOOD)
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="connector.config"):
        load_settings(path)
    assert any("chmod 600" in r.getMessage() for r in caplog.records)
    caplog.clear()
    path.chmod(0o600)
    with caplog.at_level(logging.WARNING, logger="connector.config"):
        load_settings(path)
    assert not caplog.records
