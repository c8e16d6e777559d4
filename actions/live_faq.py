"""The FAQ the action server answers from: the FAQ files plus the entries published in the
console (escalation/faq_entries.py), reloaded within a second or two of a change, without a
restart and without retraining Rasa (the NLU hands every question to the FAQ action).

A watcher thread asks the ticket database for the live FAQ's version once a second. When it
moves, a new knowledge base is built beside the current one (the answer policy calibrated on
the FAQ files kept; the vectors of unchanged phrasings reused, so only the new entry is
embedded) and swapped in: a question being answered finishes on the old one. Every action
server process watches for itself.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from escalation.db import session_scope
from escalation.faq_entries import live_version, published_documents
from knowledge import KnowledgeBase
from knowledge.loader import with_live_entries

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
#: The live FAQ's index lives beside the FAQ files' (which a restart loads as it is).
LIVE_INDEX_DIR = "live"


class LiveFaq:
    """The current knowledge base, replaced when the published entries change."""

    def __init__(self, files: KnowledgeBase, sessions: sessionmaker[Session]) -> None:
        self._files = files
        self._sessions = sessions
        self._current = files
        self._version: tuple[int, str | None] | None = None
        self._documents: list[dict[str, Any]] = []

    @property
    def current(self) -> KnowledgeBase:
        return self._current

    def refresh(self) -> bool:
        """Load the published entries if they changed; whether the knowledge base did."""
        with session_scope(self._sessions) as session:
            version = live_version(session)
            if version == self._version:
                return False
            documents = published_documents(session)
        self._version = version
        if documents == self._documents:
            return False  # a draft changed, not what the bot says
        self._files.warm_up(progress=False)  # the policy is calibrated on the FAQ files
        entries = with_live_entries(list(self._files.entries.values()), documents)
        live = KnowledgeBase(
            entries,
            self._files.embedder,
            self._files.index_dir / LIVE_INDEX_DIR,
            default_language=self._files.default_language,
            policy=self._files.policy,
        )
        live.warm_up(progress=False, reuse=self._current.index)
        self._current, self._documents = live, documents
        logger.info("live FAQ: %d published entries, %d in all", len(documents), len(entries))
        return True

    def watch(self) -> threading.Thread:
        """Refresh once a second for as long as the process runs."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(POLL_SECONDS):
                try:
                    self.refresh()
                except Exception:  # the database briefly away: the next second tries again
                    logger.exception("live FAQ refresh failed")

        thread = threading.Thread(target=loop, name="live-faq", daemon=True)
        thread.start()
        return thread
