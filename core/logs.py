"""One logging set-up for every process of ours (CLI, action server, API).

INFO is one line per customer turn and per agent action; each request's HTTP chatter
(httpx, uvicorn's access log, Sanic's) is DEBUG. ``HELPDESK_LOG_FORMAT=json`` writes one
JSON object per line for people who ship logs.
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

#: Loggers that speak per request or per start-up step: heard at DEBUG only.
CHATTY_LOGGERS = (
    "httpx",
    "httpcore",
    "uvicorn.access",
    "sanic.access",
    "faiss.loader",
    "alembic",
    "apscheduler",
    "rasa_sdk.interfaces",  # "Tried to access non existent slot …" on every action
)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Servers that install handlers of their own: theirs go, so every line has one format.
OWN_HANDLERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "sanic.root", "sanic.error")


def configure_logging(level: str, log_format: str) -> None:
    """Route every logger to stderr at ``level``, as text or JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", timestamp=False)
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in OWN_HANDLERS:
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
    quiet = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
