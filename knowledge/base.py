"""The knowledge base facade: what the action server and the API call."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from knowledge.cross_lingual import ScaleMap, cross_pairs, mixed
from knowledge.decision import (
    Answer,
    AnswerPolicy,
    Choice,
    Decision,
    entry_dense_scores,
    fused_hits,
)
from knowledge.embedder import Embedder, Vectors
from knowledge.index import FaqIndex, load_or_build
from knowledge.language import DetectedLanguage, LanguageIdentifier
from knowledge.lexical import LexicalIndex
from knowledge.models import FaqEntry, IndexedText, SearchHit
from knowledge.paraphrase import same_question_bar
from knowledge.policy_store import Calibration, calibration_key, stored_calibration
from knowledge.tuning import DENSE_DEPTH, IDENTIFIER_MIN_DIGITS
from knowledge.vector_cache import RecentVectors

logger = logging.getLogger(__name__)

IDENTIFIER = re.compile(rf"[#№]?\b\d{{{IDENTIFIER_MIN_DIGITS},}}\b")


#: Questions whose vectors are kept: the turns in flight on one action server, no more (a
#: benchmark that repeats its questions must not measure a cache).
RECENT_QUESTIONS = 32


class KnowledgeBase:
    """FAQ entries plus their vector index; cheap to construct, heavy after :meth:`warm_up`."""

    def __init__(
        self,
        entries: Sequence[FaqEntry],
        embedder: Embedder,
        index_dir: Path,
        *,
        default_language: str = "en",
        calibration: Calibration | None = None,
        answer_threshold: float | None = None,
        labelled_questions: Path | None = None,
    ) -> None:
        """``calibration`` is answered with as it is (its policy and off-topic anchors);
        without one, the FAQ's own: stored beside the index, or made at warm-up and stored,
        refined by the ``labelled_questions`` kept there (see LABELLED_FILE) when it is made.
        ``answer_threshold`` overrides its threshold."""
        self.entries = {entry.id: entry for entry in entries}
        self.embedder = embedder
        self.index_dir = index_dir
        self.default_language = default_language
        self._given = calibration
        self._answer_threshold = answer_threshold
        self._labelled_questions = labelled_questions
        self._calibration: Calibration | None = None
        self._lexical = LexicalIndex(entries)
        self.languages = frozenset(lang for entry in entries for lang in entry.languages)
        # Per language, what each entry without a variant in it gets added (set at warm-up,
        # once the policy is known: a search only looks it up).
        self._shifts: dict[str, dict[str, float]] = {}
        self.language_identifier = LanguageIdentifier(entries, default_language)
        self._index: FaqIndex | None = None
        self._bar: float | None = None
        self._bar_digest: str | None = None
        self._lock = threading.Lock()
        # A question is embedded once per turn even when two steps need its vector (the
        # search, then the knowledge gap of a declined question): the model is the turn's
        # largest cost (py-spy: half the action server's time).
        self._vectors = RecentVectors(self._embed_query, RECENT_QUESTIONS)
        self._second_vectors = RecentVectors(self._embed_second, RECENT_QUESTIONS)

    def warm_up(self, *, progress: bool = True, reuse: FaqIndex | None = None) -> bool:
        """Load the model, load or build the index and its calibration; returns whether the
        index was rebuilt. Vectors of phrasings ``reuse`` holds are not embedded again."""
        with self._lock:
            if self._index is not None:
                return False
            entries = list(self.entries.values())
            index, rebuilt = load_or_build(
                entries, self.embedder, self.index_dir, progress=progress, reuse=reuse
            )
            self.embedder.warm_up()
            self.language_identifier.warm_up()
            calibration = self._resolve_calibration(entries, index)
            self._shifts = _shifts_by_entry(entries, calibration.policy)
            self._calibration = calibration
            self._index = index
        return rebuilt

    @property
    def index(self) -> FaqIndex:
        """The loaded index (loaded on first use)."""
        return self._ready_index()

    @property
    def policy(self) -> AnswerPolicy:
        """The answer policy in force (calibrated on first use when not given)."""
        return self.calibration.policy

    @property
    def calibration(self) -> Calibration:
        """The calibration in force: the policy and the off-topic anchors."""
        self._ready_index()
        assert self._calibration is not None
        return self._calibration

    def with_own_calibration(self) -> KnowledgeBase:
        """This FAQ answering with its own calibration: itself when it does, else a new
        knowledge base on the same index with the stored one or one made now (seconds to a
        minute on one core: keep it off the answering path)."""
        if self.calibration.key == calibration_key(self.index):
            return self
        own = self.sibling(list(self.entries.values()), self.index_dir, None)
        own.warm_up(progress=False, reuse=self.index)
        return own

    def sibling(
        self, entries: Sequence[FaqEntry], index_dir: Path, calibration: Calibration | None
    ) -> KnowledgeBase:
        """A knowledge base of ``entries`` with this one's model and settings (not loaded)."""
        return KnowledgeBase(
            entries,
            self.embedder,
            index_dir,
            default_language=self.default_language,
            calibration=calibration,
            answer_threshold=self._answer_threshold,
            labelled_questions=self._labelled_questions,
        )

    def _resolve_calibration(self, entries: list[FaqEntry], index: FaqIndex) -> Calibration:
        """The calibration in force: the given one, the stored one, or a new one (the
        offline procedure runs once for a new FAQ or model)."""
        if self._given is not None:
            calibration = self._given
        elif stored := stored_calibration(index, self.index_dir):
            calibration = stored
        else:
            from knowledge.calibration import load_labelled, load_or_calibrate

            labelled = load_labelled(self._labelled_questions, entries)
            calibration = load_or_calibrate(entries, index, self.embedder, self.index_dir, labelled)
        if self._answer_threshold is not None:
            policy = replace(calibration.policy, threshold=self._answer_threshold)
            calibration = replace(calibration, policy=policy)
        return calibration

    def detect_language(
        self, text: str, *, previous: DetectedLanguage | None = None, locale: str | None = None
    ) -> DetectedLanguage:
        """The conversation's language after ``text`` (see :class:`LanguageIdentifier`)."""
        return self.language_identifier.resolve(text, previous=previous, locale=locale)

    def search(self, text: str, *, lang: str | None = None, k: int = 5) -> list[SearchHit]:
        """The ``k`` best entries for ``text`` by the policy's fused score, best first."""
        text = searchable(text)
        if not text.strip():
            return []
        policy = self.policy
        return fused_hits(
            self._dense_scores(text, lang),
            self._lexical.coverages(text, lang),
            policy.weight_for(lang),
            k,
            self._shifts.get(lang or "", {}),
            words_reorder=policy.words_reorder(lang),
        )

    def signal_tops(self, text: str, *, lang: str | None) -> tuple[str | None, str | None]:
        """The best entry by the dense signal alone and by the lexical one alone (benchmarks
        check that the fused ranking does at least as well as either)."""
        text = searchable(text)
        dense = self._dense_scores(text, lang) if text.strip() else {}
        lexical = self._lexical.coverages(text, lang) if text.strip() else {}
        dense_top = max(dense, key=lambda entry_id: dense[entry_id][0], default=None)
        lexical_top = max(lexical, key=lambda entry_id: lexical[entry_id][0], default=None)
        return dense_top, lexical_top

    def answer(self, text: str, *, language: DetectedLanguage | str | None = None) -> Answer:
        """Decide whether to answer ``text`` from the FAQ, and with which variant.

        ``language`` is the conversation's when the caller resolved it (a bare code counts
        as certain); otherwise it is detected from ``text``.
        """
        if isinstance(language, str):
            language = DetectedLanguage(language, 1.0)
        language = language or self.detect_language(text)
        hits = tuple(self.search(text, lang=language.lang))
        decision = self.policy.decide(hits, language.lang)
        if (decision.entry_id or decision.choices) and self._more_like_chatter(text, hits):
            decision = Decision(None)
        if decision.entry_id is None:
            choices = tuple(self._choice(entry_id, language.lang) for entry_id in decision.choices)
            suggestions = tuple(
                self._choice(entry_id, language.lang) for entry_id in decision.suggestions
            )
            return Answer(None, None, language.lang, language, hits, choices, suggestions)
        return self.answer_entry(decision.entry_id, language, hits)

    def _more_like_chatter(self, text: str, hits: Sequence[SearchHit]) -> bool:
        """Whether ``text`` is nearer the off-topic messages this FAQ declines than its best
        entry, by more than the clarification gap (see knowledge/off_topic.py)."""
        off_topic = self.calibration.off_topic
        if off_topic is None or not hits:
            return False
        best_entry = max(hit.dense for hit in hits)
        query = self._vectors.get(searchable(text))
        return off_topic.outranks(query, best_entry, self.policy.clarify_gap)

    def answer_entry(
        self, entry_id: str, language: DetectedLanguage, hits: tuple[SearchHit, ...] = ()
    ) -> Answer:
        """Answer with a known entry (e.g. the one a customer picked from a clarifying question).

        Raises:
            KeyError: no entry has this id.
        """
        entry = self.entries[entry_id]
        variant = entry.variant_for(language.lang, self.default_language)
        return Answer(variant.answer, entry.id, variant.lang, language, hits)

    def prepare_search(self, text: str) -> bool:
        """Start embedding ``text`` in the background for a :meth:`search` that may come: a
        guess (the message may not be a question), so only when no embedding is running.
        Whether this call started it (not when kept, under way, or refused)."""
        text = searchable(text)
        return bool(text.strip()) and self._vectors.prefetch(text)

    def embed_question(self, text: str) -> Vectors:
        """The question's vector as a search embedded it (to group unanswered questions)."""
        return self._vectors.get(searchable(text))

    def same_question_bar(self) -> float | None:
        """The cosine at which two questions count as the same one, learnt from this FAQ
        (knowledge/paraphrase.py): a blended index learnt it when it was built (its vectors
        are not questions'); others once per loaded index, from its vectors."""
        index = self._ready_index()
        if index.blended:
            return index.passages.same_question_bar
        if self._bar_digest != index.digest:
            self._bar = same_question_bar(index.vectors(), index.texts)
            self._bar_digest = index.digest
        return self._bar

    def title(self, entry_id: str, lang: str) -> str:
        """The entry's question in ``lang`` (else the default language): what it is about."""
        return self.entries[entry_id].variant_for(lang, self.default_language).question

    def _choice(self, entry_id: str, lang: str) -> Choice:
        variant = self.entries[entry_id].variant_for(lang, self.default_language)
        return Choice(entry_id, variant.question)

    def _dense_scores(self, text: str, lang: str | None) -> dict[str, tuple[float, IndexedText]]:
        """Each entry's dense score with its closest phrasing (see ENTRY_TOP_K); phrasings
        in another language than ``lang`` scored by both models (knowledge/cross_lingual.py)."""
        index = self._ready_index()
        rows = index.search_rows(self._vectors.get(text), DENSE_DEPTH)
        scale = self.policy.cross_lingual_scale
        if rows and lang and scale is not None and self.embedder.cross_lingual is not None:
            rows = self._mixed_rows(text, lang, rows, scale)
        ranked = [(index.texts[row], cosine) for row, cosine in rows]
        return entry_dense_scores(ranked, known=self.entries)

    def _mixed_rows(
        self, text: str, lang: str, rows: list[tuple[int, float]], scale: ScaleMap
    ) -> list[tuple[int, float]]:
        """``rows`` rescored with the cross-lingual model where a pair has two languages,
        best first again."""
        index = self._ready_index()
        picked = np.array([row for row, _ in rows], dtype=np.int64)
        cross = cross_pairs([lang], [index.texts[row].lang for row in picked.tolist()])[0]
        if not cross.any():
            return rows
        second = index.second_vectors(self.embedder)[picked] @ self._second_vectors.get(text)
        first = np.array([cosine for _, cosine in rows])
        scores = mixed(first, second, cross, scale)
        order = np.argsort(-scores, kind="stable")
        return [(int(picked[i]), float(scores[i])) for i in order]

    def _embed_second(self, text: str) -> Vectors:
        assert self.embedder.cross_lingual is not None
        return _read_only(self.embedder.cross_lingual.encode([text])[0])

    def _embed_query(self, text: str) -> Vectors:
        return _read_only(self.embedder.encode([text], role="query")[0])

    def _ready_index(self) -> FaqIndex:
        if self._index is None:
            self.warm_up(progress=False)
        assert self._index is not None
        return self._index


def _shifts_by_entry(
    entries: Sequence[FaqEntry], policy: AnswerPolicy
) -> dict[str, dict[str, float]]:
    """Per language with a shift: each entry without a variant in it, and its shift."""
    return {
        lang: {entry.id: shift for entry in entries if lang not in entry.variants}
        for lang, shift in policy.missing_variant_shifts.items()
        if shift
    }


def _read_only(vector: Vectors) -> Vectors:
    """``vector`` as float32 that nobody can change: the caches share it with their callers."""
    frozen = np.asarray(vector, dtype=np.float32)
    frozen.setflags(write=False)
    return frozen


def searchable(text: str) -> str:
    """``text`` without identifiers (order, ticket or phone numbers): see IDENTIFIER_MIN_DIGITS."""
    return IDENTIFIER.sub(" ", text)
