"""Whether an FAQ's phrasings are indexed *blended*, decided by the FAQ itself.

e5 embeds a text as a question ("query: ") or as a passage ("passage: "). For a customer's
question against the FAQ's questions its authors advise "query: " on both sides, and the
index does that by default. The normalised mean of a phrasing's two vectors (blended) ranks
better on some public FAQs and worse on others: through the whole decision, MCC on xSID
0.823 → 0.890 and HINT3 curekart 0.728 → 0.743, but HINT3 sofmattress 0.697 → 0.682,
powerplay11 0.478 → 0.470 and xSID without its alternatives 0.674 → 0.574.

The FAQ says which kind it is: every phrasing that has a sibling in its language (an
alternative of the same entry's variant) is asked, as a customer's question, against all
the other phrasings, and the entry ranked first counts (its score as the search computes it:
the mean of its ENTRY_TOP_K closest phrasings). The index is blended only when that puts the
right entry first more often than the single prefix does. The comparison is strict and has
no constant to tune. Translations are not asked: the search scores a question against a
phrasing in another language with a second model as well (knowledge/cross_lingual.py), so
e5's ranking of them alone does not tell how the index will serve; an FAQ without
alternatives keeps the single prefix. On the public FAQs this picks the blend for HINT3
curekart, xSID (with its alternatives) and the sample FAQ, the single prefix for sofmattress,
powerplay11 and every FAQ without alternatives.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from knowledge.embedder import Embedder, Vectors, blend
from knowledge.models import IndexedText
from knowledge.paraphrase import same_question_bar
from knowledge.tuning import ENTRY_TOP_K

logger = logging.getLogger(__name__)

#: Phrasings embedded both ways to decide; a larger FAQ is judged on a random sample of whole
#: entries of about this many phrasings (the choice costs a second pass of the model over them).
MAX_JUDGED = 4_000
#: Held-out phrasings scored at once (memory: CHUNK × judged phrasings float32).
CHUNK = 512


@dataclass(frozen=True)
class PassageChoice:
    """Whether the index is blended, the held-out top-1 each way that decided it, and for a
    blended index the same-question bar (knowledge/paraphrase.py) of its phrasings embedded
    as questions, learnt here because only here are they at hand."""

    blended: bool
    asked: int = 0
    top1_single: float | None = None
    top1_blended: float | None = None
    same_question_bar: float | None = None

    def describe(self) -> str:
        """One line for an operator: how the phrasings are embedded, and why."""
        kind = "blended (both e5 prefixes)" if self.blended else "with one prefix"
        if not self.asked:
            return f"FAQ phrasings embedded {kind}"
        return (
            f"FAQ phrasings embedded {kind}: {self.asked} held-out phrasings put their entry "
            f"first {self.top1_blended} blended, {self.top1_single} with one prefix"
        )

    def as_json(self) -> dict[str, object]:
        return {
            "blended": self.blended,
            "asked": self.asked,
            "top1_single": self.top1_single,
            "top1_blended": self.top1_blended,
            "same_question_bar": self.same_question_bar,
        }


@dataclass(frozen=True)
class JudgedVectors:
    """What choosing embedded: the judged phrasings' vectors, the chosen kind and as questions."""

    words: list[str]
    chosen: Vectors
    questions: Vectors


def choose_passages(
    texts: Sequence[IndexedText], embedder: Embedder, *, progress: bool = False
) -> tuple[PassageChoice, JudgedVectors | None]:
    """Decide whether ``texts`` are indexed blended; the vectors made on the way, if any."""
    if embedder.prefixes.blend is None:
        return PassageChoice(False), None
    judged = _judged_rows(texts)
    owners = [texts[row].entry_id for row in judged]
    variants = Counter((texts[row].entry_id, texts[row].lang) for row in judged)
    asked = [
        i for i, row in enumerate(judged) if variants[texts[row].entry_id, texts[row].lang] > 1
    ]
    if not asked:
        return PassageChoice(False), None
    words = [texts[row].text for row in judged]
    single, second = embedder.encode_both_passages(words, progress=progress)
    blended = blend(single, second)
    questions = single if embedder.prefixes.symmetric else embedder.encode(words, role="query")
    owner_ids = np.unique(np.array(owners), return_inverse=True)[1]
    top1_single = held_out_top1(questions, single, owner_ids, asked)
    top1_blended = held_out_top1(questions, blended, owner_ids, asked)
    chosen = top1_blended > top1_single
    bar = same_question_bar(questions, [texts[row] for row in judged]) if chosen else None
    choice = PassageChoice(chosen, len(asked), round(top1_single, 4), round(top1_blended, 4), bar)
    logger.info("FAQ phrasings %s: %s", "blended" if choice.blended else "single", choice)
    return choice, JudgedVectors(words, blended if choice.blended else single, questions)


def held_out_top1(
    questions: Vectors,
    phrasings: Vectors,
    owners: npt.NDArray[np.intp],
    asked: Sequence[int],
) -> float:
    """The share of the ``asked`` rows whose own entry ranks first when the row's question
    vector is scored against every other row's phrasing vector (an entry's score: the mean
    of its ENTRY_TOP_K closest phrasings, as the search scores it; ties count as first)."""
    order = np.argsort(owners, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(owners[order]) != 0])
    bounds = list(zip(starts, [*starts[1:], len(order)], strict=True))
    right = 0
    for begin in range(0, len(asked), CHUNK):
        rows = np.asarray(asked[begin : begin + CHUNK], dtype=np.intp)
        cosines = questions[rows] @ phrasings.T
        cosines[np.arange(len(rows)), rows] = np.nan  # a phrasing does not find itself
        scores = np.column_stack([_top_mean(cosines[:, order[start:end]]) for start, end in bounds])
        column = np.searchsorted(owners[order][starts], owners[rows])  # each row's entry
        own = scores[np.arange(len(rows)), column]
        right += int((np.nanmax(scores, axis=1) <= own).sum())
    return right / len(asked)


def _top_mean(cosines: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """Per row, the mean of the ENTRY_TOP_K largest cosines (NaN, a row left out, skipped)."""
    ranked = -np.sort(-np.nan_to_num(cosines, nan=-np.inf), axis=1)[:, :ENTRY_TOP_K]
    finite = np.isfinite(ranked)
    total = np.where(finite, ranked, 0.0).sum(axis=1)
    count = finite.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _judged_rows(texts: Sequence[IndexedText]) -> list[int]:
    """Every row, or the rows of a random sample of whole entries about MAX_JUDGED strong."""
    if len(texts) <= MAX_JUDGED:
        return list(range(len(texts)))
    entry_ids = sorted({text.entry_id for text in texts})
    rng = np.random.default_rng(0)
    rng.shuffle(entry_ids)
    sizes = Counter(text.entry_id for text in texts)
    kept: set[str] = set()
    total = 0
    for entry_id in entry_ids:
        if total >= MAX_JUDGED:
            break
        kept.add(entry_id)
        total += sizes[entry_id]
    return [row for row, text in enumerate(texts) if text.entry_id in kept]
