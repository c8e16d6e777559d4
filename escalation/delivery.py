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
  reply, and the action that says it claims it atomically (``outbox.claim``). Rows
  are delivered at least once and said exactly once, and a crash of the API loses none of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from escalation import outbox
from escalation.errors import RasaUnavailable
from escalation.rasa_client import RasaClient

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60.0
UNCLAIMED_RETRY_SECONDS = 5.0


class DeliveryWorker:
    """Delivers queued rows in order, per ticket; a failed row holds back its ticket's later
    rows (replies never arrive out of order) and is retried with exponential backoff."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        rasa: RasaClient,
        *,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._rasa = rasa
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
        pending = await asyncio.to_thread(outbox.queued, self._sessions)
        queued = {row.delivery_id for row in pending}
        self._retry_at = {key: at for key, at in self._retry_at.items() if key in queued}
        held_tickets: set[int] = set()
        delivered = 0
        for row in pending:
            if (
                row.ticket_id in held_tickets
                or self._retry_at.get(row.delivery_id, 0) > self._clock()
            ):
                held_tickets.add(row.ticket_id)
                continue
            try:
                await self._rasa.trigger_delivery(
                    conversation_id=row.conversation_id, delivery_id=row.delivery_id
                )
            except RasaUnavailable as error:
                held_tickets.add(row.ticket_id)
                await self._failed(row.delivery_id, str(error))
                continue
            # Said rows leave the queue (the action claims them); one still here after the
            # bot took it was not said (e.g. the action failed): try again, not at once.
            self._retry_at[row.delivery_id] = self._clock() + UNCLAIMED_RETRY_SECONDS
            delivered += 1
        return delivered

    async def _failed(self, delivery_id: int, error: str) -> None:
        attempts = await asyncio.to_thread(
            outbox.record_failure, self._sessions, delivery_id=delivery_id, error=error
        )
        backoff = min(self._interval * 2**attempts, MAX_BACKOFF_SECONDS)
        self._retry_at[delivery_id] = self._clock() + backoff
        logger.warning("delivery %s failed (attempt %s): %s", delivery_id, attempts, error)
