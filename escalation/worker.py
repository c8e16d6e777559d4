"""A background loop in the API that works through a queue table: a pass every so often,
and at once when woken (a route queued something)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

logger = logging.getLogger(__name__)


class PollingWorker:
    """Runs :meth:`one_pass` every ``interval`` seconds, or sooner after :meth:`wake`."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """Work now rather than at the next poll; callable from any thread (sync routes)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        while True:
            try:
                await self.one_pass()
            except Exception:  # the database may be briefly unavailable: keep the loop alive
                logger.exception("%s pass failed", type(self).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
            self._wake.clear()

    async def one_pass(self) -> int:
        """Work through what is due; how many rows were done."""
        raise NotImplementedError
