"""Canary PII planted in every kind of log call never reaches the output."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from config.logging import configure_logging, unit_of_work
from config.redaction import SafeMessage

FIRST, LAST = "Zebulonia", "Quixotefield"
SSID, OTHER_ID, BIRTH = "9876543210", "771234", "2011-04-05"
CANARIES = (FIRST, LAST, SSID, OTHER_ID, BIRTH, "04/05/2011")


class CanaryError(Exception):
    pass


class SafeCanaryError(SafeMessage, Exception):
    pass


@pytest.fixture
def output() -> io.StringIO:
    stream = io.StringIO()
    configure_logging("json", "DEBUG", stream)
    yield stream
    configure_logging("json", "INFO", io.StringIO())


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def assert_no_canary(stream: io.StringIO) -> None:
    text = stream.getvalue()
    assert text, "nothing was logged: the test would pass vacuously"
    for canary in CANARIES:
        assert canary not in text


def test_pii_keyword_values_are_masked(output: io.StringIO) -> None:
    log = structlog.get_logger("t")
    log.info(
        "created_record_added",
        first_name=FIRST,
        last_name=LAST,
        ssid=SSID,
        other_id=OTHER_ID,
        birth_date=BIRTH,
        student_id=42,
    )
    log.info("nested", detail={"given_name": FIRST, "ids": [SSID, OTHER_ID]}, note=f"born {BIRTH}")
    assert_no_canary(output)
    first = lines(output)[0]
    assert first["student_id"] == 42
    assert first["ssid"] == "[redacted]"


def test_ids_inside_free_text_are_scrubbed(output: io.StringIO) -> None:
    structlog.get_logger("t").warning("row_rejected", reason=f"SSID {SSID} / {OTHER_ID} on 04/05/2011")
    assert_no_canary(output)
    assert lines(output)[0]["reason"] == "SSID [redacted] / [redacted] on [redacted]"


def test_exception_messages_never_reach_the_output(output: io.StringIO) -> None:
    log = structlog.get_logger("t")
    try:
        raise CanaryError(f"{FIRST} {LAST} has SSID {SSID}")
    except CanaryError:
        log.exception("ingest_failed", batch_id=7)
    try:
        try:
            raise KeyError(LAST)
        except KeyError as inner:
            raise CanaryError(FIRST) from inner
    except CanaryError as exc:
        log.error("link_failed", exc_info=exc)
    assert_no_canary(output)
    record = lines(output)[0]
    assert record["error"]["type"].endswith("CanaryError")  # type: ignore[index]
    assert record["batch_id"] == 7


def test_safe_errors_keep_their_message_but_still_scrub_ids(output: io.StringIO) -> None:
    try:
        raise SafeCanaryError(f"batch 7 rejected: users.csv row 12 has SSID {SSID}")
    except SafeCanaryError:
        structlog.get_logger("t").exception("batch_rejected")
    assert_no_canary(output)
    message = lines(output)[0]["error"]["message"]  # type: ignore[index]
    assert message == "batch 7 rejected: users.csv row 12 has SSID [redacted]"


def test_stdlib_and_library_records_go_through_the_same_redaction(output: io.StringIO) -> None:
    library = logging.getLogger("celery.app.trace")
    library.info(
        "Task %(name)s[%(id)s] succeeded: %(return_value)s",
        {
            "name": "worker.tasks.ingest_batch",
            "id": "0f8fad5b-d9cb-469f-a165-70867728950e",
            "return_value": f"{FIRST} {LAST}",
        },
    )
    library.error("lookup of %s failed for %s", FIRST, SSID)
    try:
        raise CanaryError(LAST)
    except CanaryError:
        library.exception("Task raised: %r", CanaryError(BIRTH))
    assert_no_canary(output)
    assert lines(output)[0]["event"] == (
        "Task worker.tasks.ingest_batch[0f8fad5b-d9cb-469f-a165-70867728950e] succeeded: [redacted]"
    )


def test_context_is_bound_for_one_unit_of_work_and_cleared_after(output: io.StringIO) -> None:
    log = structlog.get_logger("t")
    with unit_of_work(batch_id=3, district_id="17001", task_id="t-1"):
        log.info("inside")
    log.info("outside")
    inside, outside = lines(output)
    assert (inside["batch_id"], inside["district_id"], inside["task_id"]) == (3, "17001", "t-1")
    assert "batch_id" not in outside
    assert "district_id" not in outside


class TerminalStream(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_readable_console_lines_and_a_pipe_gets_json() -> None:
    terminal, pipe = TerminalStream(), io.StringIO()
    configure_logging("auto", "INFO", terminal)
    structlog.get_logger("t").info("batch_applied", batch_id=5, last_name=LAST)
    configure_logging("auto", "INFO", pipe)
    structlog.get_logger("t").info("batch_applied", batch_id=5, last_name=LAST)
    configure_logging("json", "INFO", io.StringIO())
    assert "batch_applied" in terminal.getvalue()
    assert "batch_id" in terminal.getvalue()
    assert not terminal.getvalue().lstrip().startswith("{")
    assert json.loads(pipe.getvalue())["batch_id"] == 5
    for text in (terminal.getvalue(), pipe.getvalue()):
        assert LAST not in text
