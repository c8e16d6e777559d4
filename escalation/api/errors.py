"""The API's answer to each of our errors: one handler, a status per error class.

Routes raise the domain's errors (``NotFoundError``, ``TicketStateError``...) and never
wrap calls themselves; what a client sees is ``{"detail": "<message>"}``, as FastAPI's own
``HTTPException`` gives, and never a 500 for a mistake that is theirs.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from core.errors import HelpdeskError
from escalation.errors import (
    AccountError,
    NotAnEditor,
    NotFoundError,
    RasaUnavailable,
    SignInLocked,
    TicketStateError,
)

#: The most specific class in an error's MRO decides; anything else of ours is a 400.
STATUS_BY_ERROR: dict[type[HelpdeskError], int] = {
    NotFoundError: status.HTTP_404_NOT_FOUND,
    TicketStateError: status.HTTP_409_CONFLICT,
    AccountError: status.HTTP_409_CONFLICT,
    RasaUnavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
    SignInLocked: status.HTTP_429_TOO_MANY_REQUESTS,
    NotAnEditor: status.HTTP_403_FORBIDDEN,
}
#: What a client is told when Rasa is down: the cause is for our logs, not for them.
RASA_UNAVAILABLE = "The chat service is unavailable; retry shortly."


def status_of(error: HelpdeskError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return status.HTTP_400_BAD_REQUEST


async def helpdesk_error_handler(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HelpdeskError)
    detail = RASA_UNAVAILABLE if isinstance(error, RasaUnavailable) else str(error)
    headers = (
        {"Retry-After": str(error.retry_after_seconds)} if isinstance(error, SignInLocked) else None
    )
    return JSONResponse({"detail": detail}, status_code=status_of(error), headers=headers)


async def validation_error_handler(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422, without the submitted values: a password must never come back."""
    assert isinstance(error, RequestValidationError)
    return JSONResponse(
        {"detail": jsonable_encoder([without_input(item) for item in error.errors()])},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


def without_input(item: dict[str, Any]) -> dict[str, Any]:
    """A validation error's type, place and message; not what was sent."""
    return {key: item[key] for key in ("type", "loc", "msg") if key in item}


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HelpdeskError, helpdesk_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
