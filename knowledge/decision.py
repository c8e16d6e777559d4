"""The answer decision: how an entry is scored from its two signals, when to answer, and the
answer it yields (:class:`Answer`, with :class:`Choice` for a clarifying question).

Every number here that depends on the model or the FAQ is in :class:`AnswerPolicy` and comes
from calibration (``knowledge/calibration.py``), never from a constant: a cosine of 0.85 is
a strong match for one model and noise for another, and how much the FAQ's own words should
count depends on how the FAQ is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from knowledge.cross_lingual import ScaleMap
from knowledge.language import DetectedLanguage
from knowledge.models import IndexedText, SearchHit
from knowledge.tuning import (
    ENTRY_TOP_K,
    MIN_BASELINE_ENTRIES,
    NEAR_MISS_SHARE,
    SUGGESTIONS_SHOWN,
)


class Match(StrEnum):
    """How well an entry fit a question, in words an agent reads at a glance."""

    ANSWERABLE = "good enough to answer"
    NEAR = "just below the answer bar"
    WEAK = "far below the answer bar"


@dataclass(frozen=True)
class Decision:
    """What to do with a question: answer ``entry_id``, or ask between ``choices``, or
    neither, then with ``suggestions``: the entries that fit best, offered to pick from."""

    entry_id: str | None
    choices: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnswerPolicy:
    """How hits are scored, and when the best one is good enough to answer with.

    An entry scores ``dense + weight(lang) * lexical - baseline``: its dense score (see
    ENTRY_TOP_K) plus the lexical coverage of the question by its words, weighted per
    language as the FAQ's own phrasings showed it helps, less the question's mean dense
    score over all entries (a question in another language than the FAQ's, or a long one,
    is less similar to everything; only how far the best entry stands out says something).
    The best entry is given when its score reaches ``threshold``; when the runner-up also
    does within ``clarify_gap``, the customer is asked which one they meant. In a language
    the FAQ has no variant in, every cross-lingual score is smaller, so both numbers are
    scaled by ``language_scales[lang]`` (below 1). In a language the FAQ has for some entries
    only, an entry without a variant in it is matched across languages, which costs it a
    little of every cosine whatever the question: it gets ``missing_variant_shifts[lang]``
    added (measured on the off-topic messages at calibration).

    A question the bot declines still gets the best entries offered as buttons when they
    score at least ``suggestion_bar`` (scaled alike): a customer who wrote "the mug came in
    pieces" picks "my item arrived damaged" in one click instead of rephrasing. None: never.

    ``cross_lingual_scale`` puts the cross-lingual model's cosines on the first model's
    scale (knowledge/cross_lingual.py); None when there is no such model.

    In the ``confirm_only_languages``, words confirm the dense half's pick but do not reorder
    entries: there every variant is one question while the FAQ has alternatives in another
    language. The dense half scores an entry by its closest phrasings in any language, most
    of them those alternatives; the words see one question's, names and times included. So
    entries are ranked there by their score without the words, and the words still count
    in the score the bar and the clarification gap judge. xSID translated once and the sample
    FAQ without alternatives outside English (scripts/bench_quality.py), top-1 with the
    words reordering 0.857 / 0.960, below the dense half alone (0.875 / 0.985); confirming
    only 0.863 / 0.985, MCC 0.736 → 0.741 and 0.957 → 0.974 (2026-12-07).
    """

    threshold: float
    clarify_gap: float = 0.0
    lexical_weight: float = 0.0
    lexical_weights: Mapping[str, float] = field(default_factory=dict)
    language_scales: Mapping[str, float] = field(default_factory=dict)
    suggestion_bar: float | None = None
    missing_variant_shifts: Mapping[str, float] = field(default_factory=dict)
    cross_lingual_scale: ScaleMap | None = None
    confirm_only_languages: frozenset[str] = frozenset()

    def scale_for(self, lang: str | None) -> float:
        return self.language_scales.get(lang, 1.0) if lang else 1.0

    def shift_for(self, lang: str | None) -> float:
        """What an entry without a variant in ``lang`` gets added (0: nothing)."""
        return self.missing_variant_shifts.get(lang, 0.0) if lang else 0.0

    def weight_for(self, lang: str | None) -> float:
        """The lexical weight in ``lang`` (the overall one where the FAQ said nothing)."""
        if lang is None:
            return self.lexical_weight
        return self.lexical_weights.get(lang, self.lexical_weight)

    def words_reorder(self, lang: str | None) -> bool:
        """Whether the words may reorder the dense half's entries in ``lang``."""
        return lang not in self.confirm_only_languages

    def match(self, score: float, lang: str | None) -> Match:
        """How ``score`` stands against the bar an answer in ``lang`` must reach."""
        bar = self.threshold * self.scale_for(lang)
        if score >= bar:
            return Match.ANSWERABLE
        if bar > 0 and score >= NEAR_MISS_SHARE * bar:
            return Match.NEAR
        return Match.WEAK

    def decide(self, hits: Sequence[SearchHit], lang: str | None) -> Decision:
        """Answer with the best hit, ask between the two best, or decline (with suggestions).

        The bot and calibration decide alike (a test holds the two together).
        """
        scale = self.scale_for(lang)
        threshold, gap = self.threshold * scale, self.clarify_gap * scale
        if not hits or hits[0].score < threshold:
            return Decision(None, suggestions=self._suggestions(hits, scale))
        if len(hits) > 1 and hits[1].score >= threshold and hits[0].score - hits[1].score <= gap:
            return Decision(None, (hits[0].entry_id, hits[1].entry_id))
        return Decision(hits[0].entry_id)

    def _suggestions(self, hits: Sequence[SearchHit], scale: float) -> tuple[str, ...]:
        if self.suggestion_bar is None:
            return ()
        bar = self.suggestion_bar * scale
        return tuple(hit.entry_id for hit in hits[:SUGGESTIONS_SHOWN] if hit.score >= bar)


def entry_dense_scores(
    ranked: Iterable[tuple[IndexedText, float]], known: Mapping[str, object] | None = None
) -> dict[str, tuple[float, IndexedText]]:
    """Each entry's dense score and its closest phrasing, from phrasings ranked best first.

    ``known`` restricts to those entry ids (an index may outlive an edited FAQ by a moment).
    """
    closest: dict[str, list[float]] = {}
    best_text: dict[str, IndexedText] = {}
    for indexed, cosine in ranked:
        if known is not None and indexed.entry_id not in known:
            continue
        scores = closest.setdefault(indexed.entry_id, [])
        if not scores:
            best_text[indexed.entry_id] = indexed
        if len(scores) < ENTRY_TOP_K:
            scores.append(cosine)
    return {
        entry_id: (sum(scores) / len(scores), best_text[entry_id])
        for entry_id, scores in closest.items()
    }


def fused_hits(
    dense: Mapping[str, tuple[float, IndexedText]],
    lexical: Mapping[str, tuple[float, str]],
    weight: float,
    k: int,
    shifts: Mapping[str, float] | None = None,
    *,
    words_reorder: bool = True,
) -> list[SearchHit]:
    """The ``k`` best entries by ``dense + weight * lexical - baseline + shift``, best first
    (by that score without ``weight * lexical`` when not ``words_reorder``: see
    AnswerPolicy.confirm_only_languages).

    ``lexical`` maps an entry to its coverage and the language of the variant that gave it;
    the baseline is the mean dense score of the entries in ``dense`` (see MIN_BASELINE_ENTRIES);
    ``shifts`` what some entries get added (see AnswerPolicy.missing_variant_shifts).
    """
    shifts = shifts or {}
    baseline = (
        sum(score for score, _ in dense.values()) / len(dense)
        if len(dense) >= MIN_BASELINE_ENTRIES
        else 0.0
    )
    scored = []
    for entry_id in dense.keys() | lexical.keys():
        dense_score, matched = dense.get(entry_id, (0.0, None))
        coverage, lexical_lang = lexical.get(entry_id, (0.0, ""))
        shift = shifts.get(entry_id, 0.0)
        hit = SearchHit(
            entry_id=entry_id,
            score=round(dense_score + weight * coverage - baseline + shift, 6),
            dense=round(dense_score, 4),
            lexical=round(coverage, 4),
            matched_lang=matched.lang if matched else lexical_lang,
            matched_text=matched.text if matched else "",
        )
        rank = hit.score if words_reorder else round(dense_score - baseline + shift, 6)
        scored.append((rank, hit))
    scored.sort(key=lambda ranked: (-ranked[0], ranked[1].entry_id))
    return [hit for _, hit in scored[:k]]


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
    suggestions: tuple[Choice, ...] = field(default=())

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
