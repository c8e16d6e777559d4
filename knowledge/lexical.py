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

import numpy as np
from scipy import sparse

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
    """BM25 over entry variants, queried within one language or across all of them.

    Kept as a sparse document-term matrix (SciPy): a query walks only the postings of its own
    terms, in NumPy, so its cost grows with how common its terms are, not with the FAQ's size
    in Python (scripts/bench_scale.py: a pass over every variant per query cost 34 ms at 10k
    phrasings).
    """

    def __init__(self, entries: Sequence[FaqEntry]) -> None:
        self._docs: list[tuple[str, str]] = []  # (entry id, lang)
        self._columns: dict[str, int] = {}
        rows: list[int] = []
        columns: list[int] = []
        weights: list[float] = []
        for entry in entries:
            for lang, variant in entry.variants.items():
                counts: dict[str, float] = defaultdict(float)
                for phrasing in variant.phrasings:
                    for term in terms(phrasing):
                        counts[term] += 1.0
                for term in terms(variant.answer):
                    counts[term] += ANSWER_WEIGHT
                doc = len(self._docs)
                self._docs.append((entry.id, lang))
                for term, weight in counts.items():
                    rows.append(doc)
                    columns.append(self._columns.setdefault(term, len(self._columns)))
                    weights.append(weight)
        shape = (len(self._docs), len(self._columns))
        self._tf = sparse.csc_matrix(
            (np.asarray(weights, dtype=np.float64), (rows, columns)), shape=shape
        )
        self._lengths = np.asarray(self._tf.sum(axis=1)).ravel()
        self._all = np.ones(len(self._docs), dtype=bool)
        self._by_lang: dict[str, np.ndarray] = {}
        for lang in {lang for _, lang in self._docs}:
            self._by_lang[lang] = np.array([doc_lang == lang for _, doc_lang in self._docs])
        self._average_length = {
            lang: float(self._lengths[mask].mean()) for lang, mask in self._by_lang.items()
        }
        if self._docs:
            self._average_length[""] = float(self._lengths.mean())

    def languages(self) -> set[str]:
        return set(self._by_lang)

    def search(self, text: str, *, lang: str | None = None, k: int = 10) -> list[LexicalHit]:
        """Best variants for ``text``; within ``lang`` only when given. One hit per entry."""
        allowed = self._by_lang.get(lang) if lang else (self._all if self._docs else None)
        if allowed is None:
            return []
        query = Counter(terms(text))
        scores = np.zeros(len(self._docs))
        average_length = self._average_length[lang or ""]
        n = int(allowed.sum())
        idf: dict[str, float] = {}
        found = np.zeros(len(self._docs))  # idf of the query's terms each doc holds
        for term, query_count in query.items():
            docs, tf = self._postings(term, allowed)
            idf[term] = _idf(n, len(docs))
            if len(docs) == 0:
                continue
            norm = tf + K1 * (1 - B + B * self._lengths[docs] / average_length)
            scores[docs] += query_count * idf[term] * tf * (K1 + 1) / norm
            found[docs] += idf[term]
        total_idf = sum(idf.values()) or 1.0
        matched = np.flatnonzero(scores)
        # Best first; equal scores in document order (as the FAQ lists them).
        ranked = matched[np.lexsort((matched, -scores[matched]))]
        best: dict[str, LexicalHit] = {}
        for doc in ranked:
            entry_id, doc_lang = self._docs[doc]
            if entry_id not in best:
                best[entry_id] = LexicalHit(
                    entry_id, doc_lang, float(scores[doc]), float(found[doc]) / total_idf
                )
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

    def coverage_by(self, text: str, lang: str, variant_texts: Sequence[str]) -> float:
        """The coverage of ``text`` by one more variant in ``lang`` made of ``variant_texts``,
        as :meth:`coverages` would give it were that variant in the index (0.0 below
        MIN_COVERAGE): for the calibration's stand-in entries, without rebuilding the index."""
        held = {term for part in variant_texts for term in terms(part)}
        allowed = self._by_lang.get(lang, np.zeros(len(self._docs), dtype=bool))
        n = int(allowed.sum()) + 1
        total = found = 0.0
        for term in set(terms(text)):
            idf = _idf(n, len(self._postings(term, allowed)[0]) + (term in held))
            total += idf
            found += idf if term in held else 0.0
        coverage = found / (total or 1.0)
        return coverage if coverage >= MIN_COVERAGE else 0.0

    def _postings(self, term: str, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The allowed documents holding ``term``, and its weight in each."""
        column = self._columns.get(term)
        if column is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        start, end = self._tf.indptr[column], self._tf.indptr[column + 1]
        docs, tf = self._tf.indices[start:end], self._tf.data[start:end]
        keep = allowed[docs]
        return docs[keep], tf[keep]


def _idf(documents: int, holding: int) -> float:
    """BM25's inverse document frequency of a term ``holding`` of ``documents`` contain."""
    return math.log(1 + (documents - holding + 0.5) / (holding + 0.5))
