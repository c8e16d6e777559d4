"""Rate limits on the routes anyone may call: customers' message polling, new conversation
ids, and sign-in (slowapi, per client address). A client over its limit gets 429 with
Retry-After, in the API's usual ``{"detail": ...}`` shape.

Counted in Redis when the replicas share one (HELPDESK_REDIS_URL), so N API replicas allow no
more than one; else in the process's memory. With Redis away, each process counts in memory
until it is back (limits' fallback) rather than failing the request. Behind the balancer the
client's address comes from its X-Forwarded-For, which uvicorn takes from loopback only.
"""

from __future__ import annotations

from fastapi import Request, status
from fastapi.responses import JSONResponse
from slowapi import Limiter
from slowapi.errors import RateLimitExceeded
from slowapi.util import get_remote_address

from core.settings import get_settings

#: A REST client polling every 2 s uses 30 of these a minute.
POLL_RATE = "120/minute"
#: New conversations from one address: a busy office behind one NAT stays well inside.
NEW_CONVERSATION_RATE = "30/minute"
#: Sign-in attempts from one address, whichever accounts (each account also pauses itself).
SIGN_IN_RATE = "20/minute"

limiter = Limiter(
    key_func=get_remote_address,
    headers_enabled=True,
    storage_uri=get_settings().redis_url or "memory://",
    in_memory_fallback_enabled=True,
    key_prefix="helpdesk:api",
)


async def rate_limit_exceeded_handler(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RateLimitExceeded) and error.limit is not None
    window = error.limit.limit
    return JSONResponse(
        {"detail": f"Too many requests: at most {window}. Try again later."},
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(window.get_expiry())},
    )
