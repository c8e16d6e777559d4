"""Chatter the FAQ does not claim: a question nearer to it than to any entry is declined.

"What will the weather be tomorrow?" can come out above the answer bar for "how long does
delivery take": the model puts weather near time, and a threshold alone cannot tell. The
shipped off-topic messages (``knowledge/offtopic.yaml``) say the same generic things in the
bot's languages. Those this FAQ itself declines at calibration are kept as one more
"entry", scored as an entry is (the mean cosine of its ENTRY_TOP_K closest messages, so a
thing said in several languages counts more than one stray message). When that scores
above the best entry by more than the clarification gap (the margin under which two
entries are too close to call), the question is more like chatter than like anything the
FAQ says, and it is declined. Messages this FAQ answers (a weather service's FAQ answers
"will it rain tomorrow") are left out, so the rule comes from the FAQ at hand.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from knowledge.embedder import Vectors
from knowledge.tuning import ENTRY_TOP_K


@dataclass(frozen=True)
class OffTopicAnchors:
    """The off-topic messages this FAQ declines, with their vectors (one row each)."""

    texts: tuple[str, ...]
    vectors: Vectors = field(compare=False, repr=False)

    def score(self, query: Vectors) -> float:
        """How close ``query`` is to chatter, on an entry's scale (-inf: no messages)."""
        if not self.texts:
            return float("-inf")
        cosines = self.vectors @ query
        closest = min(ENTRY_TOP_K, len(cosines))
        return float(np.partition(cosines, -closest)[-closest:].mean())

    def outranks(self, query: Vectors, best_entry: float, margin: float) -> bool:
        """Whether ``query`` is nearer chatter than the best entry's ``best_entry`` score,
        by more than ``margin``."""
        return self.score(query) > best_entry + margin

    def to_json(self) -> dict[str, Any]:
        vectors = np.ascontiguousarray(self.vectors, dtype="<f4")
        return {
            "texts": list(self.texts),
            "dims": int(vectors.shape[1]) if vectors.ndim == 2 else 0,
            "vectors": base64.b64encode(vectors.tobytes()).decode("ascii"),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> OffTopicAnchors:
        """The anchors :meth:`to_json` wrote. Raises ValueError when they do not fit."""
        texts = tuple(str(text) for text in raw["texts"])
        flat = np.frombuffer(base64.b64decode(raw["vectors"]), dtype="<f4")
        dims = int(raw["dims"])
        if len(flat) != len(texts) * dims:
            raise ValueError("off-topic vectors do not match their texts")
        vectors = flat.reshape(len(texts), dims).astype(np.float32)
        vectors.setflags(write=False)
        return cls(texts, vectors)
