"""The segments file (``config/segments.toml``): everything the segmentation core is configured by.

::

    reporting_currency = "EUR"
    [rates]                      # one unit of each currency in the reporting currency
    USD = "0.92"
    [identity]                   # exclude_staff, exclude_test_orders
    [lifecycle]                  # new_days, at_risk_days, inactive_days, lapsed_days
    [attributes]                 # loyalty_tier = { source = "custom.loyalty_tier", type = "text" }
    [library]                    # the built-in segments: on/off and thresholds
    [segments.vip]               # a marketer's own segment
    rule = 'total_spent >= 500 and orders_count >= 3 and country in ["FR", "BE"]'
    title = "VIP"                # tag "Segment – VIP"; default: from the name
    lists = ["VIP"]              # optional: also a list of its own
    [outputs]                    # lists, tags and fields pushed (see connector.segments.outputs)
    [outputs.sinks.newsletter]   # overrides for one ESP account, e.g. other list names

:func:`load_definitions` checks it all at load time: a bad rule fails with the segment's name,
the column in the expression and what was expected; an unknown key or a bad value names its
place in the file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connector.errors import ConfigError
from connector.segments.catalog import Catalog, FieldType, default_catalog
from connector.segments.currency import ReportingRates
from connector.segments.library import LibrarySettings, builtin_segments
from connector.segments.lifecycle import LifecycleThresholds
from connector.segments.metrics import AttributeSpec
from connector.segments.nodes import Rule
from connector.segments.outputs import OutputSettings
from connector.segments.rules import parse_rule

__all__ = ["CustomSegment", "IdentitySettings", "Segment", "SegmentDefinitions", "load_definitions"]

_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IdentitySettings(_Section):
    """Who is left out of profiles altogether."""

    exclude_staff: bool = Field(default=True, description="staff accounts are not marketed to")
    exclude_test_orders: bool = Field(default=True, description="test orders count nowhere")


class CustomSegment(_Section):
    """A marketer's own segment (``[segments.<name>]``)."""

    rule: str = Field(min_length=1)
    title: str | None = Field(default=None, description="as shown in tags; default: the name, readable")
    description: str = ""
    tag: bool = Field(default=True, description="push a 'Segment – <title>' tag")
    lists: tuple[str, ...] = Field(default=(), description="lists its members are put on (consent-guarded)")


class Segment(BaseModel):
    """A segment ready to evaluate: built-in or custom, its checked rule and its outputs."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str
    title: str
    rule: Rule
    tag: bool = True
    lists: tuple[str, ...] = ()
    builtin: bool = False


class _File(_Section):
    reporting_currency: str = "EUR"
    rates: Mapping[str, Decimal] = Field(default_factory=dict)
    identity: IdentitySettings = IdentitySettings()
    lifecycle: LifecycleThresholds = LifecycleThresholds()
    attributes: Mapping[str, AttributeSpec] = Field(default_factory=dict)
    library: LibrarySettings = LibrarySettings()
    segments: Mapping[str, CustomSegment] = Field(default_factory=dict)
    outputs: OutputSettings = OutputSettings()
    sinks: Mapping[str, Mapping[str, Any]] = Field(default_factory=dict)

    @field_validator("segments")
    @classmethod
    def _names(cls, value: Mapping[str, CustomSegment]) -> Mapping[str, CustomSegment]:
        import re

        for name in value:
            if not re.fullmatch(_NAME_PATTERN, name):
                raise ValueError(f"segment name {name!r}: lower-case letters, digits and _, starting with a letter")
        return value


class SegmentDefinitions(BaseModel):
    """The checked content of a segments file."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    currency: ReportingRates
    identity: IdentitySettings
    lifecycle: LifecycleThresholds
    attributes: Mapping[str, AttributeSpec]
    library: LibrarySettings
    segments: tuple[Segment, ...]
    outputs: OutputSettings
    sink_outputs: Mapping[str, OutputSettings]
    catalog: Catalog

    def outputs_for(self, sink: str) -> OutputSettings:
        """The outputs of ESP account ``sink``: ``[outputs]`` with its ``[outputs.sinks.<sink>]`` overrides."""
        return self.sink_outputs.get(sink, self.outputs)

    def segment(self, name: str) -> Segment:
        for segment in self.segments:
            if segment.name == name:
                return segment
        raise KeyError(name)

    @classmethod
    def build(cls, data: Mapping[str, Any] | None = None, *, source: str = "segments") -> SegmentDefinitions:
        """Check a segments file's content (a TOML document as a dict).

        Raises:
            ConfigError: anything invalid, each problem with its place in the file.
            RuleError: a rule that does not parse or type-check (names the segment and column).
        """
        raw = dict(data or {})
        outputs_raw = dict(raw.get("outputs") or {})
        sinks_raw = outputs_raw.pop("sinks", {}) or {}
        raw["outputs"] = outputs_raw
        raw["sinks"] = sinks_raw
        try:
            parsed = _File.model_validate(raw)
            currency = ReportingRates(reporting_currency=parsed.reporting_currency, rates=parsed.rates)
        except ValidationError as exc:
            raise _config_error(source, exc) from None
        catalog = default_catalog().with_attributes(
            {name: FieldType(spec.type) for name, spec in parsed.attributes.items()}
        )
        segments = [
            Segment(name=b.name, title=b.title, rule=b.rule, builtin=True)
            for b in builtin_segments(parsed.library, catalog)
        ]
        taken = {s.name for s in segments}
        for name, custom in parsed.segments.items():
            if name in taken:
                raise ConfigError(f"{source}: segment {name!r} is also a built-in segment's name; rename it",
                                  source=source)
            segments.append(Segment(
                name=name, title=custom.title or name.replace("_", " ").capitalize(),
                rule=parse_rule(custom.rule, catalog, segment=name), tag=custom.tag, lists=custom.lists,
            ))
        sink_outputs: dict[str, OutputSettings] = {}
        problems: list[str] = []
        for sink, override in sinks_raw.items():
            try:
                sink_outputs[sink] = OutputSettings.model_validate({**outputs_raw, **dict(override)})
            except ValidationError as exc:
                problems.extend(f"outputs.sinks.{sink}: {p}" for p in _problems(exc))
        names = {s.name for s in segments}
        for where, outputs in (("outputs", parsed.outputs), *((f"outputs.sinks.{k}", v)
                                                              for k, v in sink_outputs.items())):
            try:
                outputs.field_types(catalog)
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
            problems.extend(f"{where}.transitions: unknown segment {t!r}" for t in outputs.transitions
                            if t not in names)
        if problems:
            raise ConfigError(f"{source} is invalid:\n  " + "\n  ".join(problems), source=source,
                              problems=tuple(problems))
        return cls(currency=currency, identity=parsed.identity, lifecycle=parsed.lifecycle,
                   attributes=dict(parsed.attributes), library=parsed.library, segments=tuple(segments),
                   outputs=parsed.outputs, sink_outputs=sink_outputs, catalog=catalog)


def load_definitions(path: str | Path) -> SegmentDefinitions:
    """Read and check a segments file. A missing file means every default (built-ins on, EUR).

    Raises:
        ConfigError: unreadable TOML, or invalid content (see :meth:`SegmentDefinitions.build`).
    """
    target = Path(path)
    if not target.exists():
        return SegmentDefinitions.build({}, source=str(target))
    try:
        data = tomllib.loads(target.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the segments file {target}: {exc}", source=str(target)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{target} is not valid TOML: {exc}", source=str(target)) from None
    return SegmentDefinitions.build(data, source=str(target))


def _problems(exc: ValidationError) -> list[str]:
    out = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key (check its spelling)"
        out.append(f"{where}: {message}")
    return out


def _config_error(source: str, exc: ValidationError) -> ConfigError:
    problems = tuple(_problems(exc))
    return ConfigError(f"{source} is invalid:\n  " + "\n  ".join(problems), source=source, problems=problems)
