"""Security headers on every response of the API and the console.

The console gets a strict Content-Security-Policy (its own scripts, styles and API only; no
framing): even if customer text ever slipped into its markup, no script would run. The demo
page and the widget script are left without one: they are meant to live inside a site's own
pages, under that site's policy.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

COMMON_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
CONSOLE_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "x-frame-options": "DENY",
}
#: Paths meant to be embedded in other sites' pages.
EMBEDDABLE = ("/widget/",)
DEMO_PAGE = "/"


class SecurityHeaders:
    """Pure ASGI middleware (no buffering: the event stream keeps streaming)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(str(scope.get("path", "")))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *(
                        (name.encode(), value.encode())
                        for name, value in extra.items()
                        if name.encode() not in present
                    ),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def headers_for(path: str) -> dict[str, str]:
    if path == DEMO_PAGE or path.startswith(EMBEDDABLE):
        return COMMON_HEADERS
    return COMMON_HEADERS | CONSOLE_HEADERS
