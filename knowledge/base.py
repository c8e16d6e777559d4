"""The knowledge base facade: what the action server and the API call."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.embedder import Embedder
from knowledge.index import FaqIndex, load_or_build
from knowledge.language import DetectedLanguage, detect_language
from knowledge.loader import load_faq
from knowledge.models import FaqEntry, SearchHit

logger = logging.getLogger(__name__)

#: How many phrasings to pull from FAISS per requested entry: entries have several phrasings.
PHRASINGS_PER_ENTRY = 8


@dataclass(frozen=True)
class Answer:
    """The bot's decision for one question.

    ``entry_id`` is None when no entry scored above the threshold: the bot says it is not
    sure. ``hits`` is what was tried, best first, so an escalation can carry it.
    """

    text: str | None
    entry_id: str | None
    answer_lang: str
    language: DetectedLanguage
    hits: tuple[SearchHit, ...] = field(default=())

    @property
    def answered(self) -> bool:
        return self.entry_id is not None

    @property
    def in_customer_language(self) -> bool:
        return self.answer_lang == self.language.lang


class KnowledgeBase:
    """FAQ entries plus their vector index; cheap to construct, heavy after :meth:`warm_up`."""

    def __init__(
        self,
        entries: Sequence[FaqEntry],
        embedder: Embedder,
        index_dir: Path,
        *,
        default_language: str = "en",
        answer_threshold: float = 0.55,
    ) -> None:
        self.entries = {entry.id: entry for entry in entries}
        self.embedder = embedder
        self.index_dir = index_dir
        self.default_language = default_language
        self.answer_threshold = answer_threshold
        self.languages = frozenset(lang for entry in entries for lang in entry.languages)
        self._index: FaqIndex | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_path(
        cls,
        faq_path: Path,
        *,
        model: str,
        index_dir: Path,
        threads: int = 1,
        default_language: str = "en",
        answer_threshold: float = 0.55,
    ) -> KnowledgeBase:
        """Load the FAQ (raises :class:`FaqFormatError`) without touching the model."""
        return cls(
            load_faq(faq_path),
            Embedder(model, threads=threads),
            index_dir,
            default_language=default_language,
            answer_threshold=answer_threshold,
        )

    def warm_up(self, *, progress: bool = True) -> bool:
        """Load the model and load or build the index; returns whether it was rebuilt."""
        with self._lock:
            if self._index is not None:
                return False
            self._index, rebuilt = load_or_build(
                list(self.entries.values()), self.embedder, self.index_dir, progress=progress
            )
        self.embedder.warm_up()
        return rebuilt

    def detect_language(self, text: str) -> DetectedLanguage:
        return detect_language(text, self.languages, self.default_language)

    def search(self, text: str, *, k: int = 5) -> list[SearchHit]:
        """The ``k`` best entries for ``text``: each entry scored by its best phrasing."""
        if not text.strip():
            return []
        index = self._ready_index()
        query = self.embedder.encode([text])[0]
        best: dict[str, SearchHit] = {}
        for indexed, score in index.search(query, k * PHRASINGS_PER_ENTRY):
            if indexed.entry_id not in best and indexed.entry_id in self.entries:
                best[indexed.entry_id] = SearchHit(
                    entry_id=indexed.entry_id,
                    score=score,
                    matched_lang=indexed.lang,
                    matched_text=indexed.text,
                )
        return sorted(best.values(), key=lambda hit: hit.score, reverse=True)[:k]

    def answer(self, text: str, *, lang: str | None = None) -> Answer:
        """Decide whether to answer ``text`` from the FAQ, and with which variant."""
        language = DetectedLanguage(lang, 1.0) if lang else self.detect_language(text)
        hits = tuple(self.search(text))
        if not hits or hits[0].score < self.answer_threshold:
            return Answer(None, None, language.lang, language, hits)
        entry = self.entries[hits[0].entry_id]
        variant = entry.variant_for(language.lang, self.default_language)
        return Answer(variant.answer, entry.id, variant.lang, language, hits)

    def _ready_index(self) -> FaqIndex:
        if self._index is None:
            self.warm_up(progress=False)
        assert self._index is not None
        return self._index
