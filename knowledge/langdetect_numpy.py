"""langdetect's detector with its loop over languages in numpy: the same result, faster.

The foreign-language check asks langdetect with all its 55 profiles. Each of its 7 trials
draws up to 1001 letter n-grams and, per draw, multiplies 55 probabilities in Python: a short
message it never settles on ("Available in Pakistan ?") cost 30-38 ms on one core, most of an
FAQ turn. Here every draw is langdetect's own (the same seeded calls in the same order) and
every probability gets the same floating-point operations in the same order (numpy multiplies
element by element; the sum stays Python's, left to right), so the result is langdetect's to
the last bit (tests/knowledge/test_langdetect_numpy.py). On 4,337 public texts (lingua's
samples, HINT3, xSID) on one core: mean 3.5 -> 1.7 ms, p95 11.1 -> 4.8 ms, worst 32 -> 18 ms.
With only the 8 candidate profiles numpy's cost per call outweighs the loop it replaces
(0.71 -> 0.90 ms mean), so the candidates' detector stays langdetect's.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from langdetect.detector import Detector
from langdetect.lang_detect_exception import ErrorCode, LangDetectException

Probabilities = npt.NDArray[np.float64]


class NumpyDetector(Detector):  # type: ignore[misc]  # langdetect ships no type information
    """A drop-in :class:`langdetect.detector.Detector` (``NumpyDetector(factory)``)."""

    def _detect_block(self) -> None:
        self.cleaning_text()
        ngrams = self._extract_ngrams()
        if not ngrams:
            raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
        rows = {ngram: row for row, ngram in enumerate(dict.fromkeys(ngrams))}
        table = np.array([self.word_lang_prob_map[ngram] for ngram in rows], dtype=np.float64)
        # One table row per drawn n-gram: as long as ``ngrams``, so the same draws.
        drawn = [rows[ngram] for ngram in ngrams]
        self.random.seed(self.seed)
        langprob = np.zeros(len(self.langlist), dtype=np.float64)
        for _ in range(self.n_trial):
            alpha = self.alpha + self.random.gauss(0.0, 1.0) * self.ALPHA_WIDTH
            langprob += self._trial(table + alpha / self.BASE_FREQ, drawn) / self.n_trial
        self.langprob = langprob.tolist()

    def _trial(self, factors: Probabilities, drawn: list[int]) -> Probabilities:
        """One trial: langdetect's ``_update_lang_prob`` per draw, ``_normalize_prob`` and the
        convergence check every fifth."""
        prob = np.array(self._init_probability(), dtype=np.float64)
        step = 0
        while True:
            prob *= factors[self.random.choice(drawn)]
            if step % 5 == 0:
                prob /= sum(prob.tolist())
                if prob.max() > self.CONV_THRESHOLD or step >= self.ITERATION_LIMIT:
                    return prob
            step += 1
