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
  reply and stays queued until Rasa's stored conversation holds it (the action keeps the id
  of the latest delivery it said in a slot, and says nothing for an id it has said). Rows
  are triggered at least once and said once, and a crash of the API, of Rasa or of the
  action server anywhere on the way loses none of them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy.orm import Session, sessionmaker

from escalation import outbox
from escalation.errors import RasaUnavailable
from escalation.rasa_client import RasaClient
from escalation.worker import PollingWorker

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60.0
#: Conversations delivered to at the same time: each delivery waits on Rasa and the action
#: server, so one at a time fell behind a busy team (found by scripts/crash_test.py).
CONVERSATIONS_AT_ONCE = 8


class DeliveryWorker(PollingWorker):
    """Delivers queued rows in order, per conversation; a row not yet said holds back its
    conversation's later rows (replies never arrive out of order) and is retried with
    exponential backoff."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        rasa: RasaClient,
        *,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        on_delivered: Callable[[outbox.QueuedDelivery], Awaitable[object]] | None = None,
    ) -> None:
        super().__init__(interval)
        self._sessions = sessions
        self._on_delivered = on_delivered
        self._rasa = rasa
        self._clock = clock
        self._retry_at: dict[int, float] = {}

    async def one_pass(self) -> int:
        return await self.deliver_pending()

    async def deliver_pending(self) -> int:
        """One pass over the queue; returns how many rows the conversations now hold.

        Conversations are served side by side (a slow or unreachable one holds up no other);
        within one, rows go in order and the first not yet said holds back the rest.
        """
        pending = await asyncio.to_thread(outbox.queued, self._sessions)
        queued = {row.delivery_id for row in pending}
        self._retry_at = {key: at for key, at in self._retry_at.items() if key in queued}
        by_conversation: dict[str, list[outbox.QueuedDelivery]] = {}
        for row in pending:
            by_conversation.setdefault(row.conversation_id, []).append(row)
        slots = asyncio.Semaphore(CONVERSATIONS_AT_ONCE)

        async def deliver_in_order(rows: list[outbox.QueuedDelivery]) -> int:
            async with slots:
                delivered = 0
                for row in rows:
                    if self._retry_at.get(row.delivery_id, 0) > self._clock():
                        break
                    if not await self._deliver(row):
                        break
                    delivered += 1
                return delivered

        counts = await asyncio.gather(*map(deliver_in_order, by_conversation.values()))
        return sum(counts)

    async def _deliver(self, row: outbox.QueuedDelivery) -> bool:
        """Trigger the row and check the stored conversation holds it; mark it delivered then."""
        try:
            said = await self._rasa.trigger_delivery(
                conversation_id=row.conversation_id, delivery_id=row.delivery_id
            )
        except RasaUnavailable as error:
            await self._failed(row.delivery_id, str(error))
            return False
        if said < row.delivery_id:  # e.g. the action server failed and Rasa went on
            await self._failed(row.delivery_id, "the conversation does not hold it yet")
            return False
        await asyncio.to_thread(outbox.delivered, self._sessions, delivery_id=row.delivery_id)
        if self._on_delivered is not None:
            try:
                await self._on_delivered(row)
            except Exception:  # an e-mail not queued must not hold back the conversation
                logger.exception("after delivery %s", row.delivery_id)
        return True

    async def _failed(self, delivery_id: int, error: str) -> None:
        attempts = await asyncio.to_thread(
            outbox.record_failure, self._sessions, delivery_id=delivery_id, error=error
        )
        backoff = min(self._interval * 2**attempts, MAX_BACKOFF_SECONDS)
        self._retry_at[delivery_id] = self._clock() + backoff
        logger.warning("delivery %s failed (attempt %s): %s", delivery_id, attempts, error)
