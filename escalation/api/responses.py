"""The error answers each route documents in the OpenAPI schema, in the one shape every
error has (``{"detail": "..."}``): clients and the schema fuzzer (tests/escalation/
test_fuzz.py) see every status a route can give."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorOut(BaseModel):
    detail: str


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: _error("No valid bearer token: sign in first.")
}
FORBIDDEN: dict[int | str, dict[str, Any]] = {403: _error("Not a signed conversation id.")}
FORBIDDEN_ROLE: dict[int | str, dict[str, Any]] = {403: _error("Only an admin may do this.")}
NOT_EDITOR: dict[int | str, dict[str, Any]] = {403: _error("Only an FAQ editor may do this.")}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _error("No such ticket or agent.")}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: _error("Not possible in the ticket's current state.")
}
TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: _error("Too many requests: wait the Retry-After seconds.")
}
BOT_DOWN: dict[int | str, dict[str, Any]] = {
    503: _error("The chat service is unavailable; retry shortly.")
}
