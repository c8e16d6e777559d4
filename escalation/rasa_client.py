"""The parts of Rasa's HTTP API the escalation side uses, authenticated with its token."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from escalation.errors import RasaUnavailable

#: The intent the bot's rules answer with ``action_deliver`` (see bot/data/rules.yml).
DELIVERY_INTENT = "EXTERNAL_delivery"
#: The slot in which ``action_deliver`` keeps the id of the latest delivery it said
#: (``Slot.LAST_DELIVERY_ID`` in actions/state.py).
LAST_DELIVERY_SLOT = "last_delivery_id"


class RasaClient:
    """Trigger a delivery in a conversation; read what the bot said in it; ask whether its
    widget is connected."""

    def __init__(self, base_url: str, token: str | None, *, timeout: float = 30.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._params = {"token": token} if token else {}
        self._timeout = timeout

    async def trigger_delivery(self, *, conversation_id: str, delivery_id: int) -> int:
        """Have the bot say the queued delivery on the conversation's latest channel; the id
        of the latest delivery the conversation now holds (0 for none).

        Read from the tracker Rasa answers with, which it has stored before answering
        (rasa.core.processor.trigger_external_user_uttered saves, then the server replies
        with that tracker's state); not from the status: Rasa answers 200 even when the
        action server failed and the action's messages were dropped.
        """
        url = f"{self._conversation_url(conversation_id)}/trigger_intent"
        body = {"name": DELIVERY_INTENT, "entities": {"delivery_id": str(delivery_id)}}
        params = self._params | {"output_channel": "latest", "include_events": "NONE"}
        response = await self._request("POST", url, params=params, json=body)
        slots = (response.json().get("tracker") or {}).get("slots") or {}
        value = slots.get(LAST_DELIVERY_SLOT)
        return int(value) if isinstance(value, int | float) else 0

    async def bot_messages(self, *, conversation_id: str, after: float) -> list[dict[str, Any]]:
        """What the bot said in the conversation after ``after`` (a Unix time), oldest first."""
        url = f"{self._conversation_url(conversation_id)}/tracker"
        response = await self._request("GET", url, params=self._params)
        events = response.json().get("events") or []
        return [
            {
                "text": event.get("text"),
                "buttons": (event.get("data") or {}).get("buttons") or [],
                "timestamp": event["timestamp"],
            }
            for event in events
            if event.get("event") == "bot" and float(event.get("timestamp") or 0) > after
        ]

    async def is_connected(self, *, conversation_id: str) -> bool:
        """Whether a widget is connected to the conversation now (bot/channels/signed.py);
        a customer who closed the page is not."""
        url = f"{self._base_url}/webhooks/socketio/presence"
        params = self._params | {"conversation": conversation_id}
        response = await self._request("GET", url, params=params)
        return bool(response.json().get("connected"))

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.request(method, url, **kwargs)
        except httpx.HTTPError as error:
            raise RasaUnavailable(f"Rasa unreachable: {error!r}") from error
        if response.status_code != 200:
            raise RasaUnavailable(f"Rasa answered {response.status_code}: {response.text[:300]}")
        return response

    def _conversation_url(self, conversation_id: str) -> str:
        # Rasa's Sanic does not decode its path: "telegram%3A5531" would be another
        # conversation. ":" and "+" (messaging apps' ids, "whatsapp:+316…") go as they are.
        return f"{self._base_url}/conversations/{quote(conversation_id, safe=':+')}"
