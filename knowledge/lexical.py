"""BM25 over the FAQ's own words, per language: what the English-only embedding model cannot see.

Terms are lower-cased words plus the character 4-grams inside each word, so inflected forms
("contraseña"/"contraseñas", "κωδικό"/"κωδικός") still meet. One document per entry variant:
its question and alternative phrasings, and its answer, which is longer and weighs less.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.models import FaqEntry
from knowledge.tuning import ANSWER_WEIGHT, K1, LEXICAL_DEPTH, MIN_COVERAGE, NGRAM, B

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def terms(text: str) -> list[str]:
    """Words and their character 4-grams, accent-folded and lower-cased."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    found: list[str] = []
    for word in _WORD.findall(folded):
        found.append(word)
        padded = f"<{word}>"
        if len(padded) > NGRAM:
            found.extend(f"#{padded[i : i + NGRAM]}" for i in range(len(padded) - NGRAM + 1))
    return found


@dataclass(frozen=True)
class LexicalHit:
    """An entry's best variant for a query.

    ``coverage`` is the idf-weighted share of the query's terms found in that variant:
    unlike the BM25 score it does not grow with the query's length, so a threshold on it
    means the same for "iDEAL" and for a paragraph.
    """

    entry_id: str
    lang: str
    score: float
    coverage: float


class LexicalIndex:
    """BM25 over entry variants, queried within one language or across all of them."""

    def __init__(self, entries: Sequence[FaqEntry]) -> None:
        self._docs: list[tuple[str, str]] = []  # (entry id, lang)
        self._tf: list[dict[str, float]] = []
        for entry in entries:
            for lang, variant in entry.variants.items():
                weights: dict[str, float] = defaultdict(float)
                for phrasing in variant.phrasings:
                    for term in terms(phrasing):
                        weights[term] += 1.0
                for term in terms(variant.answer):
                    weights[term] += ANSWER_WEIGHT
                self._docs.append((entry.id, lang))
                self._tf.append(dict(weights))
        self._lengths = [sum(tf.values()) for tf in self._tf]
        self._postings: dict[str, list[int]] = defaultdict(list)
        for doc, tf in enumerate(self._tf):
            for term in tf:
                self._postings[term].append(doc)
        self._by_lang: dict[str, set[int]] = defaultdict(set)
        for doc, (_, lang) in enumerate(self._docs):
            self._by_lang[lang].add(doc)

    def languages(self) -> set[str]:
        return set(self._by_lang)

    def search(self, text: str, *, lang: str | None = None, k: int = 10) -> list[LexicalHit]:
        """Best variants for ``text``; within ``lang`` only when given. One hit per entry."""
        allowed = self._by_lang.get(lang, set()) if lang else set(range(len(self._docs)))
        if not allowed:
            return []
        query = Counter(terms(text))
        idf = self._idf(query, allowed)
        scores = self._scores(query, idf, allowed)
        total_idf = sum(idf.values()) or 1.0
        best: dict[str, LexicalHit] = {}
        for doc, score in sorted(scores.items(), key=lambda item: item[1], reverse=True):
            entry_id, doc_lang = self._docs[doc]
            if entry_id not in best:
                found = sum(weight for term, weight in idf.items() if term in self._tf[doc])
                best[entry_id] = LexicalHit(entry_id, doc_lang, score, found / total_idf)
            if len(best) == k:
                break
        return list(best.values())

    def coverages(self, text: str, lang: str | None) -> dict[str, tuple[float, str]]:
        """Each matching entry's coverage of ``text`` and the language of its variant.

        The variants in ``lang`` are looked at first, every variant when those cover the
        question better: a customer may use the FAQ's words in another language.
        """
        everywhere = self.search(text, k=LEXICAL_DEPTH)
        in_lang = self.search(text, lang=lang, k=LEXICAL_DEPTH) if lang else []
        best_in_lang = in_lang[0].coverage if in_lang else 0.0
        best_everywhere = everywhere[0].coverage if everywhere else 0.0
        chosen = in_lang if best_in_lang >= best_everywhere else everywhere
        return {
            hit.entry_id: (hit.coverage, hit.lang) for hit in chosen if hit.coverage >= MIN_COVERAGE
        }

    def _idf(self, query: Counter[str], allowed: set[int]) -> dict[str, float]:
        """idf of every query term within ``allowed``; unseen terms get the highest idf."""
        n = len(allowed)
        idf = {}
        for term in query:
            df = sum(1 for d in self._postings.get(term, ()) if d in allowed)
            idf[term] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return idf

    def _scores(
        self, query: Counter[str], idf: dict[str, float], allowed: set[int]
    ) -> dict[int, float]:
        average_length = sum(self._lengths[d] for d in allowed) / len(allowed)
        scores: dict[int, float] = defaultdict(float)
        for term, query_count in query.items():
            postings = [d for d in self._postings.get(term, ()) if d in allowed]
            for doc in postings:
                tf = self._tf[doc][term]
                norm = tf + K1 * (1 - B + B * self._lengths[doc] / average_length)
                scores[doc] += query_count * idf[term] * tf * (K1 + 1) / norm
        return scores
