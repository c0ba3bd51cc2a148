"""Log lines as every entry point configures them: time, level, logger and call id, text or JSON, the call
id carried into a call's tasks (and not into another call's), secrets masked in messages and tracebacks."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from local.cli import main as callcenter
from shared.telemetry import names
from shared.telemetry.logs import call_scope, configure_logging, set_call_id
from shared.telemetry.redact import redact

log = logging.getLogger("tests.telemetry")


@pytest.fixture
def output(entry_point_logging: None) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("info", json_lines=False, stream=stream)
    yield stream


def test_a_text_line_has_time_level_logger_and_call_id(output: io.StringIO) -> None:
    with call_scope("1a2b3c4d-0000-4000-8000-000000000000"):
        log.info("turn %d answered", 2)
    log.warning("no call here")
    first, second = output.getvalue().splitlines()
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d\.\d{3} INFO    tests\.telemetry \[call 1a2b3c4d\] turn 2 answered", first
    )
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} WARNING tests\.telemetry no call here", second)


def test_json_lines_name_their_fields(entry_point_logging: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "json")
    stream = io.StringIO()
    configure_logging("info", stream=stream)
    with call_scope("call-1"):
        try:
            raise RuntimeError("boom at /api/call/events/1?secret=abc&pk=%2B33612345678")
        except RuntimeError:
            log.exception("callback failed")
    entry = json.loads(stream.getvalue().splitlines()[0])
    assert set(entry) == {
        names.LOG_TIME,
        names.LOG_LEVEL,
        names.LOG_LOGGER,
        names.LOG_CALL_ID,
        names.LOG_MESSAGE,
        names.LOG_EXCEPTION,
    }
    assert entry[names.LOG_LEVEL] == "ERROR" and entry[names.LOG_CALL_ID] == "call-1"
    assert "RuntimeError: boom" in entry[names.LOG_EXCEPTION]
    assert "abc" not in entry[names.LOG_EXCEPTION] and "33612345678" not in entry[names.LOG_EXCEPTION]


async def test_the_call_id_follows_each_call_into_its_tasks(output: io.StringIO) -> None:
    async def call(call_id: str) -> None:
        set_call_id(call_id)  # once, where the call starts

        async def step(name: str) -> None:
            await asyncio.sleep(0)
            log.info("%s of %s", name, call_id)

        await asyncio.gather(asyncio.create_task(step("player")), asyncio.create_task(step("turn")))

    await asyncio.gather(asyncio.create_task(call("aaaaaaaa-1")), asyncio.create_task(call("bbbbbbbb-2")))
    lines = output.getvalue().splitlines()
    assert len(lines) == 4
    for line in lines:
        tag, owner = re.search(r"\[call (\w+)\] \w+ of (\w+)", line).groups()  # type: ignore[union-attr]
        assert tag == owner


def test_secrets_in_query_strings_are_masked(output: io.StringIO) -> None:
    log.info("GET %s", "/api/report/1?expires=9&sig=s1gn&pk=%2B33612345678")
    log.info("ws /ws/1?token=t0ken&x=1, /api/call/events/1?secret=s3cret, ?key=k3y, Bearer eyJh.b.c")
    text = output.getvalue()
    for secret in ("s1gn", "33612345678", "t0ken", "s3cret", "k3y", "eyJh"):
        assert secret not in text
    assert "expires=9&sig=***&pk=***" in text and "x=1" in text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("?monkey=1&key=2", "?monkey=1&key=***"),  # a parameter ending in `key` is not the key
        ("sig=abc, then", "sig=***, then"),
        ("no secrets here", "no secrets here"),
        ("pk=***", "pk=***"),  # already masked
    ],
)
def test_redact(text: str, masked: str) -> None:
    assert redact(text) == masked


def test_a_bad_log_level_is_refused() -> None:
    with pytest.raises(ValueError, match="log level must be one of"):
        configure_logging("chatty")


def test_the_cli_refuses_a_bad_log_level_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        callcenter(["dev", "--log-level", "chatty"])
    assert exited.value.code == 2
    assert "invalid choice: 'chatty'" in capsys.readouterr().err
