"""The FastAPI application: health of the stack and the demo chat page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse

from helpdesk.settings import Settings, get_settings

STATIC_DIR = Path(__file__).resolve().parent / "static"

SettingsDep = Annotated[Settings, Depends(get_settings)]

app = FastAPI(
    title="Helpdesk assistant API",
    description="Agent API and console of the chatbot-first helpdesk.",
    version="0.1.0",
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
