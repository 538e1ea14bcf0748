"""Segment rules: the small language marketers write segments in, checked, compiled to SQL, explained.

::

    rule = parse_rule('total_spent >= 500 and country in ["FR", "BE"]', catalog, segment="vip")
    query = select(profiles.c.id).where(compile_rule(rule, columns, today=clock.today()))
    explain_values(rule, profile, today=clock.today())  # [("total_spent >= 500", Decimal("612"), True), ...]

- :mod:`~connector.segments.catalog`: the fields a rule may use, and their types.
- :mod:`~connector.segments.syntax`: text to a Python expression tree (never executed), :class:`RuleError`.
- :mod:`~connector.segments.rules`: the grammar and the type checks, :func:`parse_rule`.
- :mod:`~connector.segments.nodes`: the checked rule, :func:`referenced_fields`.
- :mod:`~connector.segments.sql`: :func:`compile_rule`, and the NULL semantics.
- :mod:`~connector.segments.explain`: the same rule evaluated in Python.
"""

from connector.segments.catalog import (
    CONSENT_STATES,
    LIFECYCLE_STAGES,
    RFM_GROUPS,
    Catalog,
    Field,
    FieldType,
    default_catalog,
)
from connector.segments.explain import ExplainStep, evaluate_rule, explain_values
from connector.segments.nodes import Rule, referenced_fields
from connector.segments.rules import parse_rule
from connector.segments.sql import ProfileColumns, compile_rule
from connector.segments.syntax import MAX_DEPTH, MAX_RULE_LENGTH, RuleError

__all__ = [
    "CONSENT_STATES",
    "LIFECYCLE_STAGES",
    "MAX_DEPTH",
    "MAX_RULE_LENGTH",
    "RFM_GROUPS",
    "Catalog",
    "ExplainStep",
    "Field",
    "FieldType",
    "ProfileColumns",
    "Rule",
    "RuleError",
    "compile_rule",
    "default_catalog",
    "evaluate_rule",
    "explain_values",
    "parse_rule",
    "referenced_fields",
]
