"""Saying things to customers on an agent's behalf, through Rasa's own HTTP API.

Why Rasa's API (``trigger_intent`` with ``output_channel=latest``) and not a gateway of ours
that writes to the channels directly:

- Rasa owns the conversation. The agent's words pass through the same lock store and tracker
  store as the customer's, so with several Rasa replicas (a Redis lock store, a shared tracker
  store) they are serialized with what the customer says, and they land in the one tracker
  that every replica reads.
- The channel renders them with its own output: a socket.io room now, Telegram's or Twilio's
  API later. A new channel needs no delivery code of ours.
- Any API replica can deliver any row: the row is written in the same transaction as the
  reply, and the action that says it claims it atomically (``crud.claim_delivery``). Rows
  are delivered at least once and said exactly once, and a crash of the API loses none of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy.orm import Session, sessionmaker

from escalation import crud
from escalation.db import session_scope

logger = logging.getLogger(__name__)

#: The intent the bot's rules answer with ``action_deliver`` (see bot/data/rules.yml).
DELIVERY_INTENT = "EXTERNAL_delivery"
MAX_BACKOFF_SECONDS = 60.0
UNCLAIMED_RETRY_SECONDS = 5.0


class DeliveryError(RuntimeError):
    """Rasa did not take the delivery; it stays queued and is retried."""


class RasaGateway:
    """The parts of Rasa's HTTP API we use, authenticated with the server's token."""

    def __init__(self, base_url: str, token: str | None, *, timeout: float = 30.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._params = {"token": token} if token else {}
        self._timeout = timeout

    async def trigger_delivery(self, *, conversation_id: str, delivery_id: int) -> None:
        url = f"{self._base_url}/conversations/{_quote(conversation_id)}/trigger_intent"
        body = {"name": DELIVERY_INTENT, "entities": {"delivery_id": str(delivery_id)}}
        params = self._params | {"output_channel": "latest"}
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.post(url, params=params, json=body)
        except httpx.HTTPError as error:
            raise DeliveryError(f"Rasa unreachable: {error!r}") from error
        if response.status_code != 200:
            raise DeliveryError(f"Rasa answered {response.status_code}: {response.text[:300]}")

    async def bot_messages(self, *, conversation_id: str, after: float) -> list[dict[str, Any]]:
        """What the bot said in the conversation after ``after`` (a Unix time), oldest first."""
        url = f"{self._base_url}/conversations/{_quote(conversation_id)}/tracker"
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.get(url, params=self._params)
        except httpx.HTTPError as error:
            raise DeliveryError(f"Rasa unreachable: {error!r}") from error
        if response.status_code != 200:
            raise DeliveryError(f"Rasa answered {response.status_code}")
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


class DeliveryWorker:
    """Delivers queued rows in order, per ticket; a failed row holds back its ticket's later
    rows (replies never arrive out of order) and is retried with exponential backoff."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        gateway: RasaGateway,
        *,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._gateway = gateway
        self._interval = interval
        self._clock = clock
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._retry_at: dict[int, float] = {}

    def wake(self) -> None:
        """Deliver now rather than at the next poll; callable from any thread (sync routes)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        while True:
            try:
                await self.deliver_pending()
            except Exception:  # the database may be briefly unavailable: keep the loop alive
                logger.exception("delivery pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
            self._wake.clear()

    async def deliver_pending(self) -> int:
        """One pass over the queue; returns how many rows Rasa took."""
        pending = await asyncio.to_thread(self._pending)
        queued = {delivery_id for delivery_id, _, _ in pending}
        self._retry_at = {key: at for key, at in self._retry_at.items() if key in queued}
        held_tickets: set[int] = set()
        delivered = 0
        for delivery_id, ticket_id, conversation_id in pending:
            if ticket_id in held_tickets or self._retry_at.get(delivery_id, 0) > self._clock():
                held_tickets.add(ticket_id)
                continue
            try:
                await self._gateway.trigger_delivery(
                    conversation_id=conversation_id, delivery_id=delivery_id
                )
            except DeliveryError as error:
                held_tickets.add(ticket_id)
                await asyncio.to_thread(self._failed, delivery_id, str(error))
                continue
            # Said rows leave the queue (the action claims them); one still here after the
            # bot took it was not said (e.g. the action failed): try again, not at once.
            self._retry_at[delivery_id] = self._clock() + UNCLAIMED_RETRY_SECONDS
            delivered += 1
        return delivered

    def _pending(self) -> list[tuple[int, int, str]]:
        with session_scope(self._sessions) as session:
            return [
                (row.id, row.ticket_id, row.ticket.conversation_id)
                for row in crud.pending_deliveries(session)
            ]

    def _failed(self, delivery_id: int, error: str) -> None:
        with session_scope(self._sessions) as session:
            crud.record_delivery_failure(session, delivery_id=delivery_id, error=error)
            attempts = crud.delivery_attempts(session, delivery_id=delivery_id)
        backoff = min(self._interval * 2**attempts, MAX_BACKOFF_SECONDS)
        self._retry_at[delivery_id] = self._clock() + backoff
        logger.warning("delivery %s failed (attempt %s): %s", delivery_id, attempts, error)


def _quote(conversation_id: str) -> str:
    return quote(conversation_id, safe="")
