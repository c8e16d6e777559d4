"""The FastAPI application: health of the stack and the demo chat page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse

from escalation.db import migrate
from helpdesk.settings import Settings, get_settings

STATIC_DIR = Path(__file__).resolve().parent / "static"

SettingsDep = Annotated[Settings, Depends(get_settings)]


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    """Bring the ticket database to the latest schema before serving."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.database)
    yield


app = FastAPI(
    title="Helpdesk assistant API",
    description="Agent API and console of the chatbot-first helpdesk.",
    version="0.1.0",
    lifespan=lifespan,
)


@app.get("/health")
async def health() -> dict[str, str]:
    """Liveness of this service."""
    return {"status": "ok"}


@app.get("/health/stack")
async def stack_health(settings: SettingsDep) -> dict[str, str]:
    """Reachability of the Rasa server and the action server, as this service sees them."""
    base = f"http://{settings.host}"
    targets = {
        "rasa": f"{base}:{settings.rasa_port}/",
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
async def chat_page(settings: SettingsDep) -> str:
    """A minimal page that talks to the bot through the Rasa REST channel."""
    page = (STATIC_DIR / "chat.html").read_text(encoding="utf-8")
    return page.replace("{{RASA_URL}}", f"http://{settings.host}:{settings.rasa_port}")
