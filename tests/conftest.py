"""Shared fixtures."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from connector.clock import ManualClock


@pytest.fixture(autouse=True)
def _restore_connector_loggers() -> Iterator[None]:
    """The CLI configures the package loggers; put them back so caplog sees every test's records."""
    saved = {}
    for name in ("connector", "connectors"):
        logger = logging.getLogger(name)
        saved[name] = (list(logger.handlers), logger.level, logger.propagate)
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


@pytest.fixture
def clock() -> ManualClock:
    """A clock that only moves when slept on or advanced: 2026-01-15 09:00 UTC."""
    return ManualClock(datetime(2026, 1, 15, 9, 0, tzinfo=UTC))
