"""Configuration: one TOML file, overridable from the environment.

Where the file is, first match wins: the ``--config`` flag, the ``CONNECTOR_CONFIG``
environment variable, then ``config/connector.toml``. Any key can be overridden by an
environment variable ``CONNECTOR_<KEY>`` with ``__`` between nesting levels, e.g.
``CONNECTOR_SHOPS__ACME__ACCESS_TOKEN`` or ``CONNECTOR_LOGGING__LEVEL``; the environment wins
over the file.

A bad config never shows a pydantic traceback: :func:`load_settings` raises one
:class:`~connector.errors.ConfigError` whose message names the file, each bad key and what
was expected, and never repeats a value (it could be a secret).
"""

from __future__ import annotations

import difflib
import logging
import os
import stat
import tomllib
from collections.abc import Iterator, Mapping
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, WrapValidator, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from connector.errors import ConfigError
from connector.platforms import AccountSettings, Role, load_platforms

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "ENV_CONFIG",
    "LoggingSettings",
    "PipelineSettings",
    "ScheduleSettings",
    "Settings",
    "StoreSettings",
    "load_settings",
    "resolve_config_path",
]

DEFAULT_CONFIG_PATH = Path("config/connector.toml")
ENV_CONFIG = "CONNECTOR_CONFIG"
ENV_PREFIX = "CONNECTOR_"

log = logging.getLogger(__name__)

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


def _account(role: Role) -> Any:
    """A validator that validates an account table with its platform's own settings model."""

    def dispatch(value: Any, handler: Any) -> Any:
        if isinstance(value, AccountSettings):
            return value
        if not isinstance(value, Mapping) or "platform" not in value:
            return handler(value)  # reports the missing 'platform' key in the usual way
        platforms = load_platforms()
        info = platforms.get(str(value["platform"]))
        if info is None or info.role is not role:
            choices = ", ".join(n for n, p in platforms.items() if p.role is role)
            raise ValueError(f"platform must be one of: {choices}")
        return info.settings.model_validate(dict(value))

    return WrapValidator(dispatch)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreSettings(_Section):
    """Where state lives: a SQLite file in ``data_dir`` unless ``url`` names another database."""

    url: SecretStr | None = Field(
        default=None, description="a SQLAlchemy URL, e.g. postgresql://user:pass@host/db (default: SQLite)"
    )
    data_dir: Path = Field(default=Path("data"), description="directory for the SQLite file and demo data")


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: console on a terminal, JSON lines otherwise"
    )

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class ScheduleSettings(_Section):
    """When the daemon runs a pipeline."""

    interval_minutes: int = Field(default=15, ge=1, le=1440, description="minutes between incremental syncs")
    cron: str | None = Field(default=None, description="a crontab line; replaces interval_minutes when set")
    full_refresh_at: time = Field(default=time(3, 0), description="local time of the daily full refresh")
    timezone: str = Field(default="UTC", description="an IANA time zone such as Europe/Paris")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as UTC or Europe/Paris") from None
        return value


class PipelineSettings(_Section):
    """Which shops feed which email platform accounts, with which segments, how often."""

    shops: list[Name] = Field(min_length=1, description="names of [shops.*] tables to read")
    esps: list[Name] = Field(min_length=1, description="names of [esps.*] tables to push to")
    segments: list[str] = Field(default_factory=list, description="segment names from the segments file")
    schedule: ScheduleSettings = ScheduleSettings()


class Settings(BaseSettings):
    """The whole configuration. Build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True, case_sensitive=False
    )

    store: StoreSettings = StoreSettings()
    logging: LoggingSettings = LoggingSettings()
    segments_file: Path = Field(default=Path("segments.toml"), description="segment definitions (TOML)")
    shops: dict[Name, Annotated[AccountSettings, _account(Role.SOURCE)]] = Field(default_factory=dict)
    esps: dict[Name, Annotated[AccountSettings, _account(Role.SINK)]] = Field(default_factory=dict)
    pipelines: dict[Name, PipelineSettings] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's content arrives as init kwargs; the environment must win over it.
        return (env_settings, init_settings)

    def secrets(self) -> list[str]:
        """Every secret value in the configuration, for redaction."""
        return [s.get_secret_value() for s in _iter_secrets(self)]

    def store_url(self) -> str:
        """The store's SQLAlchemy URL (a secret if it holds a password)."""
        if self.store.url is not None:
            return self.store.url.get_secret_value()
        return f"sqlite:///{self.store.data_dir / 'connector.db'}"


def _iter_secrets(model: BaseModel) -> Iterator[SecretStr]:
    for name in type(model).model_fields:
        yield from _secrets_in(getattr(model, name))


def _secrets_in(value: Any) -> Iterator[SecretStr]:
    if isinstance(value, SecretStr):
        yield value
    elif isinstance(value, BaseModel):
        yield from _iter_secrets(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _secrets_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _secrets_in(item)


# --------------------------------------------------------------------------- loading


def resolve_config_path(flag: str | Path | None, environ: Mapping[str, str] | None = None) -> Path:
    """The config file to read: ``--config``, else ``$CONNECTOR_CONFIG``, else the default."""
    environ = os.environ if environ is None else environ
    if flag:
        return Path(flag)
    if environ.get(ENV_CONFIG):
        return Path(environ[ENV_CONFIG])
    return DEFAULT_CONFIG_PATH


def load_settings(path: str | Path) -> Settings:
    """Read, merge with the environment, validate and cross-check the configuration.

    Relative paths in the file (``store.data_dir``, ``segments_file``) are taken relative to
    the file's own directory, so the connector behaves the same from any working directory.

    Raises:
        ConfigError: the file is missing or unreadable, is not valid TOML, or does not validate.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found. Copy config/connector.example.toml to {path} and fill it in, "
            f"or point --config or ${ENV_CONFIG} at your file.",
            source=str(path),
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})", source=str(path)) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", source=str(path)) from None

    try:
        settings = Settings(**data)
    except ValidationError as exc:
        problems = tuple(_describe(e, data) for e in exc.errors(include_url=False, include_input=False))
        raise _config_error(path, problems) from None

    problems = tuple(_cross_check(settings))
    if problems:
        raise _config_error(path, problems)

    base = path.parent
    settings = settings.model_copy(
        update={
            "store": settings.store.model_copy(update={"data_dir": _anchor(base, settings.store.data_dir)}),
            "segments_file": _anchor(base, settings.segments_file),
        }
    )
    _warn_if_world_readable(path, settings)
    return settings


def _anchor(base: Path, value: Path) -> Path:
    value = value.expanduser()
    return (value if value.is_absolute() else base / value).resolve()


def _config_error(path: Path, problems: tuple[str, ...]) -> ConfigError:
    lines = "\n".join(f"  - {p}" for p in problems)
    noun = "problem" if len(problems) == 1 else "problems"
    return ConfigError(f"{path}: {len(problems)} {noun} in the configuration:\n{lines}",
                       source=str(path), problems=problems)


def _cross_check(settings: Settings) -> Iterator[str]:
    """References between tables: pipelines must name shops and ESP accounts that exist."""
    for name, pipeline in settings.pipelines.items():
        for shop in pipeline.shops:
            if shop not in settings.shops:
                yield (f"pipelines.{name}.shops: no [shops.{shop}] table; "
                       f"expected one of: {', '.join(settings.shops) or '(none defined)'}")
        for esp in pipeline.esps:
            if esp not in settings.esps:
                yield (f"pipelines.{name}.esps: no [esps.{esp}] table; "
                       f"expected one of: {', '.join(settings.esps) or '(none defined)'}")


def _describe(error: Mapping[str, Any], data: Mapping[str, Any]) -> str:
    """One line per validation error: the dotted key, what is wrong, what is expected."""
    loc = [str(p) for p in error["loc"] if not str(p).startswith("function-")]
    key = ".".join(loc) or "(top level)"
    kind = error["type"]
    parent = _model_at(loc[:-1], data)
    field = parent.model_fields.get(loc[-1]) if parent is not None and loc else None
    if kind == "missing":
        what = "required key is missing"
    elif kind == "extra_forbidden":
        what = "unknown key" + _did_you_mean(loc[-1], parent)
    else:
        what = str(error["msg"]).removeprefix("Value error, ")
    expected = field.description if field is not None and kind != "extra_forbidden" else None
    if what.startswith("expected"):
        expected = None  # the validator already said what it expects
    return f"{key}: {what}" + (f" (expected {expected})" if expected else "")


def _did_you_mean(key: str, model: type[BaseModel] | None) -> str:
    if model is None:
        return ""
    close = difflib.get_close_matches(key, list(model.model_fields), n=1)
    return f"; did you mean {close[0]!r}?" if close else f"; allowed keys: {', '.join(model.model_fields)}"


def _model_at(loc: list[str], data: Mapping[str, Any]) -> type[BaseModel] | None:
    """The settings model a location points into; account tables resolve to their platform's model."""
    if len(loc) >= 2 and loc[0] in ("shops", "esps"):
        table = data.get(loc[0], {}).get(loc[1]) if isinstance(data.get(loc[0]), Mapping) else None
        info = load_platforms().get(str(table.get("platform"))) if isinstance(table, Mapping) else None
        return _walk(info.settings, loc[2:]) if info else None
    if len(loc) >= 2 and loc[0] == "pipelines":
        return _walk(PipelineSettings, loc[2:])
    return _walk(Settings, loc)


def _walk(model: type[BaseModel] | None, loc: list[str]) -> type[BaseModel] | None:
    for part in loc:
        field = model.model_fields.get(part) if model is not None else None
        annotation = field.annotation if field is not None else None
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return model


def _warn_if_world_readable(path: Path, settings: Settings) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & stat.S_IROTH and any(True for _ in _iter_secrets(settings)):
        log.warning(
            "config file %s holds secrets and is readable by every user on this machine; "
            "run: chmod 600 %s (or move the secrets to CONNECTOR_* environment variables)",
            path,
            path,
        )
