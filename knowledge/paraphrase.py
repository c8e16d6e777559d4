"""How close two questions must be to count as the same question, learnt from the FAQ.

The FAQ says it itself: phrasings of one entry (its alternatives and translations) are the
same question, phrasings of different entries are not. For every phrasing, its closest
phrasing of the same entry and its closest phrasing of any other entry are found; the bar
is the cosine that best tells the two apart (the mean of the share of same-entry closests
at or above it and the share of other-entry closests below it, at its highest). Used to
group the questions the bot could not answer (knowledge-gap mining): two of them belong
together when either would have been taken for the other's FAQ entry. No constant is tuned
here: a compressed model (multilingual e5: unrelated ≈ 0.8) and a spread-out one (MiniLM)
each get their own bar from the same FAQ.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from knowledge.embedder import Vectors
from knowledge.models import IndexedText

#: Rows compared at once (memory: CHUNK × phrasings float32).
CHUNK = 512


def same_question_bar(vectors: Vectors, texts: Sequence[IndexedText]) -> float | None:
    """The bar for the FAQ phrasings ``texts``, embedded as questions (``vectors``, row by
    row); None when the FAQ cannot say (no entry with two phrasings, or a single entry)."""
    entries = np.array([text.entry_id for text in texts])
    same, other = [], []
    for start in range(0, len(vectors), CHUNK):
        cosines = vectors[start : start + CHUNK] @ vectors.T
        for offset, row in enumerate(cosines):
            position = start + offset
            mine = entries == entries[position]
            mine[position] = False  # not itself
            if mine.any():
                same.append(float(row[mine].max()))
            if (~mine).sum() > 1:
                theirs = ~mine
                theirs[position] = False
                other.append(float(row[theirs].max()))
    if not same or not other:
        return None
    return _best_separation(np.array(same), np.array(other))


def _best_separation(same: np.ndarray, other: np.ndarray) -> float:
    candidates = np.unique(np.concatenate([same, other]))
    best, best_score = float(candidates[0]), -1.0
    for bar in candidates:
        score = float((same >= bar).mean() + (other < bar).mean()) / 2
        if score > best_score:
            best, best_score = float(bar), score
    return round(best, 4)
