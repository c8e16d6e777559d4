"""One logging set-up: JSON lines on request, per-request chatter only at DEBUG."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from core.logs import CHATTY_LOGGERS, configure_logging


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_json_lines_for_log_shippers(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    logging.getLogger("escalation.tickets").info("ticket #%s: reply by agent #%s", 12, 3)
    [line] = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert record["message"] == "ticket #12: reply by agent #3"
    assert (record["levelname"], record["name"]) == ("INFO", "escalation.tickets")


def test_per_request_chatter_is_heard_at_debug_only(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "text")
    logging.getLogger("httpx").info('HTTP Request: POST http://127.0.0.1:5005 "200 OK"')
    logging.getLogger("rasa_sdk.interfaces").info("Tried to access non existent slot 'awaiting'.")
    logging.getLogger("actions.faq").info("conversation c1 [en]: answered reset-password (en)")
    assert capsys.readouterr().err.count("\n") == 1
    uvicorn = logging.getLogger("uvicorn.error")
    uvicorn.addHandler(logging.NullHandler())  # as uvicorn does at start-up
    uvicorn.propagate = False
    configure_logging("INFO", "json")
    uvicorn.info("Application startup complete.")
    assert json.loads(capsys.readouterr().err)["name"] == "uvicorn.error"
    configure_logging("DEBUG", "text")
    logging.getLogger("httpx").info("HTTP Request: POST")
    assert "HTTP Request" in capsys.readouterr().err
