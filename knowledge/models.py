"""Plain value types of the knowledge base."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FaqVariant:
    """One language's wording of an FAQ entry."""

    lang: str
    question: str
    answer: str
    alternatives: tuple[str, ...] = ()

    @property
    def phrasings(self) -> tuple[str, ...]:
        """Every way this variant asks the question: the main question first."""
        return (self.question, *self.alternatives)


@dataclass(frozen=True)
class FaqEntry:
    """An FAQ entry: one id, one variant per language (translations of each other)."""

    id: str
    variants: Mapping[str, FaqVariant]
    tags: tuple[str, ...] = field(default=())

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self.variants))

    def variant_for(self, lang: str, default_lang: str) -> FaqVariant:
        """The variant in ``lang``, else in ``default_lang``, else the first one there is."""
        if lang in self.variants:
            return self.variants[lang]
        if default_lang in self.variants:
            return self.variants[default_lang]
        return self.variants[self.languages[0]]


@dataclass(frozen=True)
class IndexedText:
    """A phrasing that is embedded in the index: row ``i`` of the index is ``texts[i]``."""

    entry_id: str
    lang: str
    text: str


@dataclass(frozen=True)
class SearchHit:
    """An FAQ entry ranked for a query.

    ``score`` is the fused rank score (only its order means something); ``dense`` the best
    cosine of the entry's phrasings; ``lexical`` the query's coverage by its best variant.
    """

    entry_id: str
    score: float
    dense: float
    lexical: float
    matched_lang: str
    matched_text: str
