"""Structured logs: JSON lines with context ids, and no secret ever written."""

from __future__ import annotations

import asyncio
import io
import json
import logging

from connector.logs import configure_logging, log_context
from connector.redact import Redactor


def lines(buf: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buf.getvalue().splitlines()]


def test_json_lines_carry_context_ids_and_extra_fields() -> None:
    buf = io.StringIO()
    configure_logging(fmt="json", stream=buf)
    log = logging.getLogger("connector.test")
    with log_context(pipeline="main", shop="acme", run_id=12):
        log.info("pulled %d orders", 250, extra={"stream": "orders"})
    log.info("outside")
    first, second = lines(buf)
    assert first["msg"] == "pulled 250 orders"
    assert (first["pipeline"], first["shop"], first["run_id"], first["stream"]) == ("main", "acme", "12", "orders")
    assert first["level"] == "info" and first["logger"] == "connector.test"
    assert "pipeline" not in second


def test_auto_format_is_json_when_not_a_terminal() -> None:
    buf = io.StringIO()  # not a TTY
    configure_logging(fmt="auto", stream=buf)
    logging.getLogger("connectors.shopify").warning("hello")
    assert lines(buf)[0]["msg"] == "hello"


def test_context_does_not_leak_between_concurrent_tasks() -> None:
    buf = io.StringIO()
    configure_logging(fmt="json", stream=buf)
    log = logging.getLogger("connector.test")

    async def run(name: str) -> None:
        with log_context(pipeline=name):
            await asyncio.sleep(0)
            log.info("step")

    async def both() -> None:
        await asyncio.gather(run("one"), run("two"))

    asyncio.run(both())
    assert sorted(str(line["pipeline"]) for line in lines(buf)) == ["one", "two"]


def test_secrets_are_redacted_from_messages_arguments_extras_and_tracebacks() -> None:
    buf = io.StringIO()
    secret = "shpat_PLANTED_0123456789"
    configure_logging(fmt="json", stream=buf, redactor=Redactor([secret]))
    log = logging.getLogger("connector.test")
    log.info("token=%s", secret, extra={"header": f"X-Shopify-Access-Token: {secret}"})
    try:
        raise RuntimeError(f"failed with {secret}")
    except RuntimeError:
        log.exception("request failed")
    out = buf.getvalue()
    assert secret not in out
    assert "request failed" in out and "RuntimeError" in out


def test_console_format_also_redacts() -> None:
    buf = io.StringIO()
    configure_logging(fmt="console", stream=buf, redactor=Redactor(["ck_SECRET_CONSOLE_1"]))
    logging.getLogger("connector.test").warning("key ck_SECRET_CONSOLE_1 rejected")
    assert "ck_SECRET_CONSOLE_1" not in buf.getvalue() and "rejected" in buf.getvalue()
