"""The FastAPI application: the agent API, health of the stack and the demo chat page."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slowapi.errors import RateLimitExceeded
from sqlalchemy.orm import Session, sessionmaker

from core.logs import configure_logging
from core.settings import PROJECT_ROOT, get_settings
from escalation.api.deps import SettingsDep, get_rasa
from escalation.api.errors import register_error_handlers
from escalation.api.metrics import metrics_registry, timed
from escalation.api.ratelimit import limiter, rate_limit_exceeded_handler
from escalation.api.routes import admin, analytics, auth, conversations, events, faq, tickets
from escalation.api.security import SecurityHeaders
from escalation.canned import load_canned_replies
from escalation.db import prepare, session_factory
from escalation.delivery import DeliveryWorker
from escalation.mail import MailWorker, customer_texts, email_if_away, smtp_server
from escalation.notices import delay_notice_schedule
from escalation.outbox import QueuedDelivery
from escalation.privacy import retention_schedule
from escalation.rasa_client import RasaClient
from escalation.sla import cached_policy

STATIC_DIR = Path(__file__).resolve().parent / "static"
WIDGET_SCRIPT = PROJECT_ROOT / "bot" / "widget" / "widget.js"
#: The socket.io client the widget loads, installed from package-lock.json by scripts/setup.sh.
SOCKET_IO_CLIENT = PROJECT_ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
#: Chart.js for the console's analytics page, from the same lock file.
CHART_JS = PROJECT_ROOT / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"
#: Swagger UI for /docs, from the same lock file: no CDN, so the page works offline.
SWAGGER_UI = PROJECT_ROOT / "node_modules" / "swagger-ui-dist"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Migrate the ticket database, then deliver queued agent messages (and apply the
    retention period, when set) while serving.

    Delivery starts with whatever an earlier process left queued: a crash loses nothing.
    """
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    cached_policy(settings.sla_path)  # a malformed SLA file stops the start
    load_canned_replies(settings.canned_replies_path)  # so does a malformed canned-replies file
    server = smtp_server(settings)  # so does e-mail configured halfway
    sessions = prepare(settings)
    rasa = get_rasa(settings)
    mailer = MailWorker(sessions, server, customer_texts()) if server else None
    app.state.mail_worker = mailer
    worker = DeliveryWorker(sessions, rasa, on_delivered=_email_if_away(sessions, rasa, mailer))
    app.state.delivery_worker = worker
    tasks = [
        asyncio.create_task(worker.run(), name="deliveries"),
        asyncio.create_task(delay_notice_schedule(sessions, worker.wake), name="notices"),
    ]
    if mailer is not None:
        tasks.append(asyncio.create_task(mailer.run(), name="e-mail"))
    if settings.retention_days:
        retention = retention_schedule(settings, days=settings.retention_days)
        tasks.append(asyncio.create_task(retention, name="retention"))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        sessions.kw["bind"].dispose()  # the pool's connections close with the service


def _email_if_away(
    sessions: sessionmaker[Session], rasa: RasaClient, mailer: MailWorker | None
) -> Callable[[QueuedDelivery], Awaitable[None]] | None:
    """After each delivery, the same by e-mail to a customer who left (when e-mail is on)."""
    if mailer is None:
        return None

    async def follow_up(delivered: QueuedDelivery) -> None:
        if await email_if_away(sessions, rasa, delivered):
            mailer.wake()

    return follow_up


app = FastAPI(
    title="Helpdesk assistant API",
    description="Agent API and console of the chatbot-first helpdesk.",
    version="0.1.0",
    lifespan=lifespan,
    docs_url=None,  # FastAPI's page loads Swagger UI from a CDN: ours serves it (see /docs)
    redoc_url=None,
)
register_error_handlers(app)
app.state.limiter = limiter
app.add_exception_handler(RateLimitExceeded, rate_limit_exceeded_handler)
app.add_middleware(SecurityHeaders)
metrics, request_latency = metrics_registry(lambda: session_factory(get_settings().database))
app.middleware("http")(timed(request_latency))
app.include_router(auth.router)
app.include_router(tickets.router)
app.include_router(conversations.router)
app.include_router(events.router)
app.include_router(admin.router)
app.include_router(analytics.router)
app.include_router(faq.router)
app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
app.mount("/swagger", StaticFiles(directory=SWAGGER_UI, check_dir=False), name="swagger")


@app.get("/metrics", include_in_schema=False)
def prometheus_metrics() -> Response:
    """Prometheus' text format: request latency, tickets, service levels, delivery queue."""
    return Response(generate_latest(metrics), media_type=CONTENT_TYPE_LATEST)


@app.get("/health")
async def health() -> dict[str, str]:
    """Liveness of this service."""
    return {"status": "ok"}


@app.get("/health/stack")
async def stack_health(settings: SettingsDep) -> dict[str, str]:
    """Reachability of the Rasa server and the action server, as this service sees them."""
    base = f"http://{settings.host}"
    targets = {
        "rasa": f"{settings.rasa_base_url}/",
        "actions": f"{base}:{settings.action_port}/health",
    }
    status = {}
    async with httpx.AsyncClient(timeout=2.0) as client:
        for name, url in targets.items():
            try:
                status[name] = "ok" if (await client.get(url)).status_code == 200 else "error"
            except httpx.HTTPError:
                status[name] = "unreachable"
    return status


@app.get("/", response_class=HTMLResponse, include_in_schema=False)
async def demo_page(settings: SettingsDep) -> str:
    """A demo site with the chat widget embedded, as a customer's website would have it."""
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    return page.replace("{{RASA_URL}}", settings.rasa_base_url).replace(
        "{{WIDGET_URL}}", f"http://{settings.host}:{settings.api_port}/widget/widget.js"
    )


@app.get("/docs", include_in_schema=False)
async def api_docs() -> FileResponse:
    """The agent API's OpenAPI page (Swagger UI served from node_modules, not a CDN)."""
    return FileResponse(STATIC_DIR / "docs.html")


@app.get("/console", include_in_schema=False)
async def console_page() -> FileResponse:
    """The agent console (a page on top of the agent API)."""
    return FileResponse(STATIC_DIR / "console.html")


@app.get("/console/analytics", include_in_schema=False)
async def analytics_page() -> FileResponse:
    """The analytics page of the console: charts of /api/analytics/*."""
    return FileResponse(STATIC_DIR / "analytics.html")


@app.get("/console/faq", include_in_schema=False)
async def faq_page() -> FileResponse:
    """The live FAQ's entries: draft, edit, publish, unpublish, history."""
    return FileResponse(STATIC_DIR / "faq.html")


@app.get("/console/chart.umd.min.js", include_in_schema=False)
async def chart_library() -> FileResponse:
    return FileResponse(CHART_JS, media_type="text/javascript")


@app.get("/widget/widget.js", include_in_schema=False)
async def widget_script() -> FileResponse:
    return FileResponse(WIDGET_SCRIPT, media_type="text/javascript")


@app.get("/widget/socket.io.min.js", include_in_schema=False)
async def socket_io_client() -> FileResponse:
    return FileResponse(SOCKET_IO_CLIENT, media_type="text/javascript")
