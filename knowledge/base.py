"""The knowledge base facade: what the action server and the API call."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.embedder import Embedder
from knowledge.index import FaqIndex, load_or_build
from knowledge.language import DetectedLanguage, LanguageIdentifier
from knowledge.lexical import LexicalHit, LexicalIndex
from knowledge.loader import load_faq
from knowledge.models import FaqEntry, IndexedText, SearchHit

logger = logging.getLogger(__name__)

#: Phrasings pulled from FAISS per query: enough that every plausible entry gets a dense score.
DENSE_DEPTH = 256
LEXICAL_DEPTH = 20
MIN_LEXICAL_COVERAGE = 0.15
#: Two acceptable entries this close on both signals are a coin toss: ask instead.
CLARIFY_DENSE_MARGIN = 0.06
CLARIFY_LEXICAL_MARGIN = 0.15
#: Reciprocal rank fusion constant (Cormack et al. 2009): damps the weight of the very top ranks.
RRF_K = 60
#: Weight of the lexical ranking against the dense one for questions in a language the model
#: was not trained on: there the cosine ranks almost at random, so the FAQ's own words rank
#: and the cosine only breaks near-ties. Swept on knowledge/eval/questions.jsonl, top1 overall
#: with the packaged model: weight 1 → 0.87, 2–3 → 0.88, 4–6 → 0.91, 8 and up → 0.93.
LEXICAL_WEIGHT_OUTSIDE_MODEL = 8.0


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], weights: Sequence[float] | None = None
) -> list[tuple[str, float]]:
    """Fuse rankings of ids: each id scores the weighted sum of 1 / (RRF_K + rank)."""
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + weight / (RRF_K + rank)
    return sorted(scores.items(), key=lambda pair: pair[1], reverse=True)


@dataclass(frozen=True)
class Thresholds:
    """When the best fused entry is good enough to answer with.

    Either signal may vouch for it: the dense cosine or the lexical coverage (strong wherever
    the customer uses the FAQ's own words). The cosine means more in the languages the model
    was trained on (``model_languages``; None: all of them) than elsewhere: there it must also
    stand out from the runner-up's by ``margin_other`` (outside its languages the model gives
    every entry a middling cosine, and only the gap says something). Picked from data by
    ``helpdesk kb calibrate``.
    """

    dense: float = 0.6
    dense_other: float = 0.9
    lexical: float = 0.5
    model_languages: frozenset[str] | None = None
    margin_other: float = 0.0

    def model_knows(self, lang: str | None) -> bool:
        """Whether the embedding model was trained on ``lang`` (unknown language: assume so)."""
        return self.model_languages is None or lang is None or lang in self.model_languages

    def accepts(self, hit: SearchHit, lang: str, others: Sequence[SearchHit] = ()) -> bool:
        """Whether ``hit``, found for a question in ``lang`` beside ``others``, will do."""
        if hit.lexical >= self.lexical:
            return True
        if self.model_knows(lang):
            return hit.dense >= self.dense
        runner_up = max((o.dense for o in others if o.entry_id != hit.entry_id), default=0.0)
        return hit.dense >= self.dense_other and hit.dense - runner_up >= self.margin_other

    def decide(self, hits: Sequence[SearchHit], lang: str) -> Decision:
        """Answer with the best hit, ask between the two best, or decline.

        The bot and ``helpdesk kb calibrate`` both decide here, so what is calibrated is
        exactly what runs.
        """
        if not hits or not self.accepts(hits[0], lang, hits[1:]):
            return Decision(None)
        if len(hits) > 1 and self._too_close(hits[0], hits[1], lang):
            return Decision(None, (hits[0].entry_id, hits[1].entry_id))
        return Decision(hits[0].entry_id)

    def _too_close(self, first: SearchHit, second: SearchHit, lang: str) -> bool:
        return (
            self.accepts(second, lang, [first])
            and abs(first.dense - second.dense) <= CLARIFY_DENSE_MARGIN
            and abs(first.lexical - second.lexical) <= CLARIFY_LEXICAL_MARGIN
        )


@dataclass(frozen=True)
class Decision:
    """What to do with a question: answer ``entry_id``, or ask between ``choices``, or neither."""

    entry_id: str | None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Choice:
    """An entry offered in a clarifying question, titled in the customer's language."""

    entry_id: str
    title: str


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
    choices: tuple[Choice, ...] = field(default=())

    @property
    def answered(self) -> bool:
        return self.entry_id is not None

    @property
    def clarifying(self) -> bool:
        """Two entries fit about equally well: ask which one was meant instead of guessing."""
        return bool(self.choices)

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
        thresholds: Thresholds | None = None,
    ) -> None:
        self.entries = {entry.id: entry for entry in entries}
        self.embedder = embedder
        self.index_dir = index_dir
        self.default_language = default_language
        self.thresholds = thresholds or Thresholds()
        self._lexical = LexicalIndex(entries)
        self.languages = frozenset(lang for entry in entries for lang in entry.languages)
        self.language_identifier = LanguageIdentifier(entries, default_language)
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
        thresholds: Thresholds | None = None,
    ) -> KnowledgeBase:
        """Load the FAQ (raises :class:`FaqFormatError`) without touching the model."""
        return cls(
            load_faq(faq_path),
            Embedder(model, threads=threads),
            index_dir,
            default_language=default_language,
            thresholds=thresholds,
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

    def detect_language(
        self, text: str, *, previous: DetectedLanguage | None = None, locale: str | None = None
    ) -> DetectedLanguage:
        """The conversation's language after ``text`` (see :class:`LanguageIdentifier`)."""
        return self.language_identifier.resolve(text, previous=previous, locale=locale)

    def search(self, text: str, *, lang: str | None = None, k: int = 5) -> list[SearchHit]:
        """The ``k`` best entries for ``text``, dense and lexical rankings fused.

        The lexical ranking looks at the variants in ``lang`` first and at every variant
        when nothing there matches: a customer may use the FAQ's words in another language.
        Outside the model's languages it outweighs the dense ranking.
        """
        if not text.strip():
            return []
        dense = self._dense_scores(text)
        lexical = self._lexical_hits(text, lang)
        lexical_by_id = {hit.entry_id: hit for hit in lexical}
        dense_ranking = sorted(dense, key=lambda entry_id: dense[entry_id][0], reverse=True)
        lexical_weight = 1.0 if self.thresholds.model_knows(lang) else LEXICAL_WEIGHT_OUTSIDE_MODEL
        fused = reciprocal_rank_fusion(
            [dense_ranking, [hit.entry_id for hit in lexical]], [1.0, lexical_weight]
        )
        hits = []
        for entry_id, fused_score in fused[:k]:
            dense_score, matched = dense.get(entry_id, (0.0, None))
            lexical_hit = lexical_by_id.get(entry_id)
            hits.append(
                SearchHit(
                    entry_id=entry_id,
                    score=round(fused_score, 6),
                    dense=round(dense_score, 4),
                    lexical=round(lexical_hit.coverage, 4) if lexical_hit else 0.0,
                    matched_lang=matched.lang
                    if matched
                    else (lexical_hit.lang if lexical_hit else ""),
                    matched_text=matched.text if matched else "",
                )
            )
        return hits

    def answer(
        self, text: str, *, lang: str | None = None, language: DetectedLanguage | None = None
    ) -> Answer:
        """Decide whether to answer ``text`` from the FAQ, and with which variant.

        ``language`` is the conversation's, when the caller resolved it; ``lang`` forces one.
        """
        if lang:
            language = DetectedLanguage(lang, 1.0)
        language = language or self.detect_language(text)
        hits = tuple(self.search(text, lang=language.lang))
        decision = self.thresholds.decide(hits, language.lang)
        if decision.entry_id is None:
            choices = tuple(self._choice(entry_id, language.lang) for entry_id in decision.choices)
            return Answer(None, None, language.lang, language, hits, choices)
        return self.answer_entry(decision.entry_id, language, hits)

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

    def _choice(self, entry_id: str, lang: str) -> Choice:
        variant = self.entries[entry_id].variant_for(lang, self.default_language)
        return Choice(entry_id, variant.question)

    def _lexical_hits(self, text: str, lang: str | None) -> list[LexicalHit]:
        """Lexical hits in ``lang``, or across all languages when those cover the query better.

        Hits covering less than MIN_LEXICAL_COVERAGE of the query are noise (a shared 4-gram)
        and would outvote a strong dense match in the fusion.
        """
        everywhere = self._lexical.search(text, k=LEXICAL_DEPTH)
        in_lang = self._lexical.search(text, lang=lang, k=LEXICAL_DEPTH) if lang else []
        best_in_lang = in_lang[0].coverage if in_lang else 0.0
        best_everywhere = everywhere[0].coverage if everywhere else 0.0
        chosen = in_lang if best_in_lang >= best_everywhere else everywhere
        return [hit for hit in chosen if hit.coverage >= MIN_LEXICAL_COVERAGE]

    def _dense_scores(self, text: str) -> dict[str, tuple[float, IndexedText]]:
        """Each entry's best cosine over its phrasings, with the phrasing."""
        index = self._ready_index()
        query = self.embedder.encode([text])[0]
        best: dict[str, tuple[float, IndexedText]] = {}
        for indexed, score in index.search(query, DENSE_DEPTH):
            if indexed.entry_id not in best and indexed.entry_id in self.entries:
                best[indexed.entry_id] = (score, indexed)
        return best

    def _ready_index(self) -> FaqIndex:
        if self._index is None:
            self.warm_up(progress=False)
        assert self._index is not None
        return self._index
