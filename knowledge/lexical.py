"""BM25 over the FAQ's own words, per language: what the English-only embedding model cannot see.

Terms are lower-cased words plus the character 4-grams inside each word, so inflected forms
("contraseña"/"contraseñas", "κωδικό"/"κωδικός") still meet. One document per entry variant:
its question and alternative phrasings, and its answer, which is longer and weighs less.
The BM25 itself is bm25s's (Lucene's variant: the idf the coverage below uses too).
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import bm25s
import numpy as np
import numpy.typing as npt

from knowledge.models import FaqEntry
from knowledge.tuning import ANSWER_WEIGHT, K1, LEXICAL_DEPTH, MIN_COVERAGE, NGRAM, B

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# bm25s sets its logger to DEBUG on import: each index built would write a line to our logs.
logging.getLogger("bm25s").setLevel(logging.WARNING)
#: bm25s counts whole tokens, so the answer's weight is written as repetition: each phrasing
#: term PHRASING_REPEATS times, each answer term once. Term counts and document lengths are
#: then PHRASING_REPEATS times the weighted ones; BM25 with k1 as many times larger scores
#: every document in proportion to BM25 with K1 on the weighted counts (length enters as a
#: ratio to the average), so the ranking is that of ANSWER_WEIGHT.
PHRASING_REPEATS = round(1 / ANSWER_WEIGHT)


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


class _Documents:
    """BM25 over some of the FAQ's variants (one language's, or all): their own idf and
    average length. Two bm25s indexes: one ranks; one with k1 = 0 (each term a document
    holds counts its idf once, whatever its frequency) gives the idf of the query's terms a
    document holds, the coverage's numerator. Terms are the FAQ's term ids (``vocabulary``)."""

    def __init__(self, docs: list[int], ids: list[list[int]], vocabulary: dict[str, int]) -> None:
        self.docs = np.asarray(docs, dtype=np.int64)
        self._vocabulary = vocabulary
        held = [np.unique(np.asarray(doc_ids, dtype=np.int64)) for doc_ids in ids]
        self._frequency = np.bincount(
            np.concatenate([np.zeros(0, dtype=np.int64), *held]), minlength=len(vocabulary)
        )
        self._ranking = bm25s.BM25(k1=K1 * PHRASING_REPEATS, b=B, method="lucene", dtype="float64")
        self._holding = bm25s.BM25(k1=0.0, b=B, method="lucene", dtype="float64")
        self._empty = not self._frequency.any()  # bm25s cannot index documents without terms
        if not self._empty:
            for index in (self._ranking, self._holding):
                index.index((ids, vocabulary), create_empty_token=False, show_progress=False)

    def idf(self, term: str, *, extra: int = 0, holding_extra: bool = False) -> float:
        """BM25's idf of ``term`` here, with ``extra`` more documents (the one holding it
        when ``holding_extra``)."""
        column = self._vocabulary.get(term)
        documents = len(self.docs) + extra
        holding = (0 if column is None else int(self._frequency[column])) + holding_extra
        return math.log(1 + (documents - holding + 0.5) / (holding + 0.5))

    def scores(self, query: list[str]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Each document's BM25 score for ``query``, and the idf of its distinct terms the
        document holds."""
        if self._empty:
            return np.zeros(len(self.docs)), np.zeros(len(self.docs))
        known = [self._vocabulary[term] for term in query if term in self._vocabulary]
        ranked = self._ranking.get_scores_from_ids(known)
        held = self._holding.get_scores_from_ids(list(dict.fromkeys(known)))
        return np.asarray(ranked, dtype=np.float64), np.asarray(held, dtype=np.float64)


class LexicalIndex:
    """BM25 over entry variants, queried within one language or across all of them."""

    def __init__(self, entries: Sequence[FaqEntry]) -> None:
        self._docs: list[tuple[str, str]] = []  # (entry id, lang)
        vocabulary: dict[str, int] = {}
        ids: list[list[int]] = []  # each variant's terms as ids: no string kept per document

        def as_ids(texts: Sequence[str]) -> list[int]:
            return [
                vocabulary.setdefault(term, len(vocabulary))
                for text in texts
                for term in terms(text)
            ]

        for entry in entries:
            for lang, variant in entry.variants.items():
                ids.append(as_ids(variant.phrasings) * PHRASING_REPEATS + as_ids([variant.answer]))
                self._docs.append((entry.id, lang))
        everything = list(range(len(self._docs)))
        self._subsets: dict[str, _Documents] = {}
        if self._docs:
            self._subsets[""] = _Documents(everything, ids, vocabulary)
        for lang in sorted({lang for _, lang in self._docs}):
            docs = [doc for doc, (_, doc_lang) in enumerate(self._docs) if doc_lang == lang]
            same = docs == everything  # one language: its documents are all of them
            self._subsets[lang] = (
                self._subsets[""]
                if same
                else _Documents(docs, [ids[doc] for doc in docs], vocabulary)
            )

    def languages(self) -> set[str]:
        return set(self._subsets) - {""}

    def search(self, text: str, *, lang: str | None = None, k: int = 10) -> list[LexicalHit]:
        """Best variants for ``text``; within ``lang`` only when given. One hit per entry."""
        subset = self._subsets.get(lang or "")
        query = terms(text)
        if subset is None or not query:
            return []
        scores, held = subset.scores(query)
        total_idf = sum(subset.idf(term) for term in dict.fromkeys(query)) or 1.0
        matched = np.flatnonzero(scores)
        # Best first; equal scores in document order (as the FAQ lists them).
        ranked = matched[np.lexsort((matched, -scores[matched]))]
        best: dict[str, LexicalHit] = {}
        for position in ranked:
            entry_id, doc_lang = self._docs[int(subset.docs[position])]
            if entry_id not in best:
                coverage = float(held[position]) / total_idf
                best[entry_id] = LexicalHit(entry_id, doc_lang, float(scores[position]), coverage)
                if len(best) == k:
                    break
        return list(best.values())

    def coverages(self, text: str, lang: str | None) -> dict[str, tuple[float, str]]:
        """Each matching entry's coverage of ``text`` and the language of its variant.

        The variants in ``lang`` are looked at first, every variant when those cover the
        question better: a customer may use the FAQ's words in another language.
        """
        everywhere = self.search(text, k=LEXICAL_DEPTH)
        if lang in self._subsets and self._subsets[lang] is self._subsets[""]:
            in_lang = everywhere  # a one-language FAQ: the same documents, the same search
        else:
            in_lang = self.search(text, lang=lang, k=LEXICAL_DEPTH) if lang else []
        best_in_lang = in_lang[0].coverage if in_lang else 0.0
        best_everywhere = everywhere[0].coverage if everywhere else 0.0
        chosen = in_lang if best_in_lang >= best_everywhere else everywhere
        return {
            hit.entry_id: (hit.coverage, hit.lang) for hit in chosen if hit.coverage >= MIN_COVERAGE
        }

    def coverage_by(self, text: str, lang: str, variant_texts: Sequence[str]) -> float:
        """The coverage of ``text`` by one more variant in ``lang`` made of ``variant_texts``,
        as :meth:`coverages` would give it were that variant in the index (0.0 below
        MIN_COVERAGE): for the calibration's stand-in entries, without rebuilding the index."""
        held = {term for part in variant_texts for term in terms(part)}
        subset = self._subsets.get(lang) or _Documents([], [], {})
        total = found = 0.0
        for term in set(terms(text)):
            idf = subset.idf(term, extra=1, holding_extra=term in held)
            total += idf
            found += idf if term in held else 0.0
        coverage = found / (total or 1.0)
        return coverage if coverage >= MIN_COVERAGE else 0.0
