"""The FAQ the action server answers from: the FAQ files plus the entries published in the
console (escalation/faq_entries.py), reloaded within a second or two of a change, without a
restart and without retraining Rasa (the NLU hands every question to the FAQ action).

A watcher thread asks the ticket database for the live FAQ's version once a second. When it
moves, a new knowledge base is built beside the current one (the vectors of unchanged
phrasings reused, so only the new entry is embedded) and swapped in: a question being
answered finishes on the old one. It answers at once with the FAQ files' answer policy, while
a background thread calibrates the live FAQ itself (seconds on one core; stored beside its
index, so another process or a restart finds it) and swaps that in: the bot does not answer
for long with a policy made for another FAQ. Simulated on the public sets (half of each FAQ's
entries in the files, the other half published, two splits each, 2026-12-07): MCC 0.737 →
0.754 on average with the live FAQ's own calibration, wrong answers 0.107 → 0.065; better on
HINT3 sofmattress, curekart and xSID, worse on powerplay11 (0.52 → 0.48) and the sample FAQ
(0.97 → 0.96). Until then the files' off-topic anchors are left out: what is chatter to the
files' FAQ may be what a published entry is about (xSID: MCC 0.794 without them, 0.734 with).
Every action server process watches for itself; the live FAQ's index and calibration are made
by one of them at a time, and the others load what it stored (knowledge/index.py and
knowledge/calibration.py lock the index directory).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
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
        self._swap = threading.Lock()  # the current one is replaced by one thread at a time
        self._one_calibration = threading.Lock()
        #: The thread calibrating the latest live FAQ (tests wait for it).
        self.calibrating: threading.Thread | None = None

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
        self._files.warm_up(progress=False)
        if documents:
            entries = with_live_entries(list(self._files.entries.values()), documents)
            interim = replace(self._files.calibration, off_topic=None)
            live = self._files.sibling(entries, self._files.index_dir / LIVE_INDEX_DIR, interim)
            live.warm_up(progress=False, reuse=self._current.index)
        else:
            live = self._files
        with self._swap:
            self._current, self._documents = live, documents
        logger.info("live FAQ: %d published entries, %d in all", len(documents), len(live.entries))
        if live is not self._files:
            self.calibrating = threading.Thread(
                target=self._calibrate, args=(live,), name="live-faq-calibration", daemon=True
            )
            self.calibrating.start()
        return True

    def _calibrate(self, interim: KnowledgeBase) -> None:
        """Swap in ``interim``'s FAQ with its own calibration, unless a newer one came first
        (one calibration at a time: a waiting one for an outdated FAQ is skipped)."""
        with self._one_calibration:
            if self._current is not interim:
                return
            try:
                calibrated = interim.with_own_calibration()
            except Exception:  # the files' calibration keeps answering
                logger.exception("calibrating the live FAQ failed")
                return
            with self._swap:
                if self._current is interim:
                    self._current = calibrated
                    logger.info("live FAQ: answering with its own calibration")

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
