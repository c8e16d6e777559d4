"""Calibration: the answer policy derived from the FAQ at hand, with no labelled questions needed.

An operator imports an FAQ; nobody has labelled customer questions for it. The FAQ itself
still says a lot about when an answer is right:

- **Held-out phrasings** (in scope): each phrasing is asked against the FAQ without it, in
  ``FOLDS`` folds. Whatever entry comes first should be its own.
- **Held-out entries** (out of scope, but close to the business): in the same folds, a fifth
  of the entries is taken out whole and their phrasings asked. Answering them with another
  entry is exactly the near-miss that gives wrong answers on real traffic.
- **Off-topic messages** (``knowledge/offtopic.yaml``): greetings, small talk and general
  questions in the bot's languages, asked against the whole FAQ.
- **Borrowed paraphrases** (in scope), for an FAQ with too few phrasings to hold out: its
  own questions asked with their entry scored as a paraphrase from the shipped sample FAQ
  scores its question, and the sample's entries as extra entries (probes).

From these cases the lexical weight of each language is the one that ranks the held-out
phrasings best, and the answer threshold and clarification gap are the pair with the best
weighted Matthews correlation (the measure HINT3 ranks FAQ bots by), in-scope and
out-of-scope cases weighing half each. Labelled questions, when an operator has them,
weigh as much as all simulated cases together. In a language the FAQ has for some entries
only, the off-topic messages also measure how much lower an entry without a variant in it
scores (it is matched across languages): that much is added to it at answer time, after the
bar was chosen, so that it can be found at all. The off-topic messages that policy
declines are kept with their vectors: the chatter this FAQ does not claim
(knowledge/off_topic.py).

The result is stored beside the index, keyed by the index's content hash: a new FAQ or
model recalibrates, and nothing else does.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import yaml
from filelock import FileLock

from knowledge.cross_lingual import CrossLingualModel, ScaleMap, cross_pairs, mixed
from knowledge.decision import AnswerPolicy
from knowledge.embedder import Embedder, Vectors
from knowledge.index import FaqIndex
from knowledge.lexical import LexicalIndex
from knowledge.models import FaqEntry, FaqVariant
from knowledge.off_topic import OffTopicAnchors
from knowledge.policy_store import (
    CALIBRATION_LOCK,
    OFFTOPIC_FILE,
    Calibration,
    calibration_key,
    save_calibration,
    stored_calibration,
    write_atomically,
)
from knowledge.tuning import (
    ENTRY_TOP_K,
    FOLDS,
    GAP_QUANTILES,
    KIND_SHARES,
    LABELLED_SHARE,
    LEXICAL_WEIGHT_GRID,
    LEXICAL_WEIGHT_PRIOR,
    MAX_ASKED_PER_FOLD,
    MIN_BASELINE_ENTRIES,
    MIN_IN_SCOPE_CASES,
    MIN_PHRASINGS_PER_LANGUAGE,
    SUGGESTIONS_SHOWN,
    THRESHOLD_CANDIDATES,
)

logger = logging.getLogger(__name__)

PROBE_FAQ = Path(__file__).resolve().parent / "faq"
PROBE_ENTRY = "~probe"
#: Questions whose cosines to every phrasing are held in memory at once.
COSINE_ROWS = 256
#: In-scope kinds share KIND_SHARES["phrasing"] in proportion to their numbers.
IN_SCOPE_KINDS = ("phrasing", "probe", "own_question")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
#: The cases' scores are kept in single precision (half the memory of a large bare FAQ's
#: cases x entries) and computed on in double, a block at a time.
STORED = np.float32
StoredArray = npt.NDArray[np.floating[Any]]


@dataclass(frozen=True)
class LabelledCase:
    """A question with the entry that answers it (None: out of scope)."""

    text: str
    lang: str
    expected_id: str | None


@dataclass
class CaseSet:
    """Cases scored against every entry: row i is one question, column j one entry.

    ``dense`` is -inf where an entry was held out of the FAQ the question was asked against;
    ``lacks`` is True where the FAQ has no variant of the entry in the question's language
    (the whole FAQ's: a held-out phrasing stands for a customer's question about an entry
    that has its variant; None: every entry has one); ``variant_held_out`` is True where
    holding a phrasing out left its entry with no variant in its language, a case the
    customer's question never is when the FAQ has one (None: no such case).
    """

    entry_ids: list[str]
    dense: StoredArray
    lexical: StoredArray
    gold: IntArray  # column of the expected entry; len(entry_ids) for out of scope
    langs: list[str]
    kinds: list[str]
    lacks: BoolArray | None = None
    variant_held_out: BoolArray | None = None

    @property
    def out_of_scope(self) -> int:
        return len(self.entry_ids)


def calibrate(
    entries: Sequence[FaqEntry],
    index: FaqIndex,
    embedder: Embedder,
    *,
    labelled: Sequence[LabelledCase] = (),
) -> Calibration:
    """Derive the answer policy from the FAQ (and ``labelled`` questions, if any).

    An FAQ with no entries yet (an operator who starts empty and publishes entries from the
    console) gets a policy that declines everything: there is nothing to calibrate on.
    """
    if index.size == 0:
        return Calibration(key=calibration_key(index), policy=AnswerPolicy(threshold=math.inf))
    off_topic = load_offtopic()
    off_topic_vectors = embedder.encode([case.text for case in off_topic], role="query")
    scale = None
    if embedder.cross_lingual is not None:
        second = embedder.cross_lingual.encode([case.text for case in off_topic])
        scale = ScaleMap.between(off_topic_vectors, second)
    cases = simulated_cases(
        entries, index, embedder, off_topic_vectors=off_topic_vectors, scale=scale
    )
    if labelled:
        cross = _cross_scoring(index, embedder, scale)
        cases = _concat(
            [cases, _score_questions(entries, index, embedder, labelled, "labelled", cross=cross)]
        )
    weights, undecided = _lexical_weights(cases)
    overall = weights.pop("*")
    confirm_only = _one_question_languages(entries) & undecided
    unshifted_policy = AnswerPolicy(0.0, 0.0, overall, weights, confirm_only_languages=confirm_only)
    unscaled = row_tops(cases, unshifted_policy)
    scales = _language_scales(cases, unscaled.best, {lang for e in entries for lang in e.variants})
    divisors = np.array([scales.get(lang, 1.0) for lang in cases.langs])
    # The bar is what an entry matched in the question's own language must reach; an entry
    # without a variant in it is compared to that bar after its shift.
    unshifted = unscaled.scaled(divisors)
    threshold, gap = _choose_operating_point(cases, unshifted.top)
    policy = AnswerPolicy(
        threshold=round(threshold, 6),
        clarify_gap=round(gap, 6),
        lexical_weight=overall,
        lexical_weights=weights,
        language_scales=scales,
        suggestion_bar=_suggestion_bar(cases, unshifted.best),
        missing_variant_shifts=_missing_variant_shifts(cases),
        cross_lingual_scale=scale,
        confirm_only_languages=confirm_only,
    )
    shifted = row_tops(cases, policy, suggestions=True).scaled(divisors)
    declined = (
        predicted(cases, shifted.top, policy.threshold, policy.clarify_gap) == cases.out_of_scope
    )
    kept = declined[np.array(cases.kinds) == "off_topic"]
    return Calibration(
        key=calibration_key(index),
        policy=policy,
        figures=_figures(cases, shifted, policy, labelled=bool(labelled)),
        off_topic=OffTopicAnchors(
            tuple(case.text for case, keep in zip(off_topic, kept, strict=True) if keep),
            np.asarray(off_topic_vectors, dtype=np.float32)[kept],
        ),
    )


class RowTops(NamedTuple):
    """What the simulated decision needs of each case's scores: its two first entries, its
    best score and (when asked for) the entries a declined question would be offered."""

    top: TopTwo
    best: FloatArray
    shown: IntArray | None  # the SUGGESTIONS_SHOWN first columns by the ranking
    shown_scores: FloatArray | None

    def scaled(self, divisors: FloatArray) -> RowTops:
        """The same with each case's scores divided by its divisor (its language's scale):
        the ranking is not divided, and dividing the best scores after picking them gives
        what dividing every score first would, to the last bit (rounding is monotonic)."""
        first, s1, second, s2 = self.top
        shown_scores = self.shown_scores
        return RowTops(
            top=TopTwo(first, s1 / divisors, second, s2 / divisors),
            best=self.best / divisors,
            shown=self.shown,
            shown_scores=None if shown_scores is None else shown_scores / divisors[:, None],
        )


def row_tops(cases: CaseSet, policy: AnswerPolicy, *, suggestions: bool = False) -> RowTops:
    """:func:`top_two` of the cases' :func:`fused_scores` ranked by :func:`ranking_scores`,
    with each row's best score and, ``suggestions``, its first entries by the ranking.

    A block of cases at a time: a matrix of cases x entries is held once, as the cases, and
    not once more per score (a bare FAQ of 10,000 entries: 2,570 cases, 0.2 GB a matrix;
    calibration's peak RSS 1.9 GB with every score whole, 0.9 GB so, 2026-12-07).
    """
    tops: list[TopTwo] = []
    best, shown, shown_scores = [], [], []
    for start in range(0, len(cases.gold), COSINE_ROWS):
        rows = slice(start, start + COSINE_ROWS)
        block = _subset(cases, rows)
        fused = fused_scores(block, policy)
        order = ranking_scores(block, policy)
        tops.append(top_two(fused, order))
        best.append(fused.max(axis=1))
        if suggestions:
            # A copy: a slice would keep the whole block's sort alive.
            first = np.argsort(-order, axis=1, kind="stable")[:, :SUGGESTIONS_SHOWN].copy()
            shown.append(first)
            shown_scores.append(np.take_along_axis(fused, first, axis=1))
    return RowTops(
        top=TopTwo(*(np.concatenate(field) for field in zip(*tops, strict=True))),
        best=np.concatenate(best),
        shown=np.concatenate(shown) if suggestions else None,
        shown_scores=np.concatenate(shown_scores) if suggestions else None,
    )


def fused_scores(cases: CaseSet, policy: AnswerPolicy) -> FloatArray:
    """Every case's score of every entry, as :func:`knowledge.decision.fused_hits` makes it."""
    return _scores(cases, policy, [policy.weight_for(lang) for lang in cases.langs])


def ranking_scores(cases: CaseSet, policy: AnswerPolicy) -> FloatArray:
    """What orders every case's entries: its scores, without the words in the languages
    where they only confirm (AnswerPolicy.confirm_only_languages)."""
    return _scores(
        cases,
        policy,
        [policy.weight_for(lang) if policy.words_reorder(lang) else 0.0 for lang in cases.langs],
    )


def _scores(cases: CaseSet, policy: AnswerPolicy, lexical_weights: list[float]) -> FloatArray:
    weights = np.array(lexical_weights)
    dense = cases.dense.astype(np.float64)
    finite = np.isfinite(dense)
    counts = finite.sum(axis=1)
    baseline = np.where(finite, dense, 0.0).sum(axis=1) / np.maximum(counts, 1)
    baseline[counts < MIN_BASELINE_ENTRIES] = 0.0
    scores: FloatArray = dense + weights[:, None] * cases.lexical - baseline[:, None]
    if cases.lacks is not None:
        shifts = np.array([policy.shift_for(lang) for lang in cases.langs])
        scores = scores + shifts[:, None] * cases.lacks
    return scores


def _missing_variant_shifts(cases: CaseSet) -> dict[str, float]:
    """Per language the FAQ has for some entries only: how much lower an entry without a
    variant in it scores, matched across languages, than one with a variant.

    Measured on the off-topic messages, which are about none of the entries: what tells
    the two groups apart there is the language alone. The mean dense score over the entries
    without a variant, subtracted from the mean over those with one, per message, averaged.
    """
    if cases.lacks is None:
        return {}
    langs = np.array(cases.langs)
    off_topic = np.array(cases.kinds) == "off_topic"
    shifts = {}
    for lang in sorted(set(langs[off_topic].tolist())):
        gaps = []
        for row in np.flatnonzero(off_topic & (langs == lang)):
            scored = np.isfinite(cases.dense[row])  # not a probe column, scored -inf
            lacks, dense = cases.lacks[row][scored], cases.dense[row][scored].astype(float)
            if lacks.all() or not lacks.any():
                continue
            gaps.append(float(dense[~lacks].mean() - dense[lacks].mean()))
        if gaps and np.mean(gaps) > 0:
            shifts[str(lang)] = round(float(np.mean(gaps)), 6)
    return shifts


def _language_scales(cases: CaseSet, best: FloatArray, faq_languages: set[str]) -> dict[str, float]:
    """How much smaller the scores of a language the FAQ lacks are than its own languages'.

    Measured on the off-topic messages, which say the same things in every language: the
    ratio of the median best score is how much the model's cross-lingual similarity to this
    FAQ shrinks. Scaling that language's threshold by it lets its questions be answered
    while its off-topic messages stay declined about as often as the FAQ languages' are.
    ``best``: each case's best score.
    """
    kinds, langs = np.array(cases.kinds), np.array(cases.langs)
    off_topic = kinds == "off_topic"
    home = off_topic & np.isin(langs, sorted(faq_languages))
    if not home.any():
        return {}
    reference = float(np.median(best[home]))
    if reference <= 0:
        return {}
    scales = {}
    for lang in sorted(set(langs[off_topic].tolist()) - faq_languages):
        ratio = float(np.median(best[off_topic & (langs == lang)])) / reference
        if 0 < ratio < 1:
            scales[str(lang)] = round(ratio, 4)
    return scales


def _suggestion_bar(cases: CaseSet, best: FloatArray) -> float | None:
    """The best score of the median off-topic message: a declined question is offered the
    entries that fit it better than they fit half of plain chatter and general questions.

    Below that, entries come up for "who painted the Mona Lisa" as readily as for the
    question: offering them would be noise. Above it, the simulated declines of this FAQ's
    own held-out phrasings mostly have their entry among the offered ones. ``best``: each
    case's best score.
    """
    best = best[np.array(cases.kinds) == "off_topic"]
    best = best[np.isfinite(best)]
    return round(float(np.median(best)), 6) if len(best) else None


def cautious_threshold(
    entries: Sequence[FaqEntry],
    index: FaqIndex,
    embedder: Embedder,
    policy: AnswerPolicy,
    *,
    share_of_wrong: float = 0.5,
) -> float:
    """The lowest threshold at which the FAQ's simulated wrong-move rate is at most
    ``share_of_wrong`` of the policy's: fewer wrong answers, bought with more declines."""
    cases = simulated_cases(entries, index, embedder, scale=policy.cross_lingual_scale)
    scales = np.array([policy.scale_for(lang) for lang in cases.langs])
    tops = row_tops(cases, policy).scaled(scales)
    weights = _case_weights(cases)
    top = tops.top

    def wrong(threshold: float) -> float:
        guess = predicted(cases, top, threshold, policy.clarify_gap)
        moves = (guess != cases.gold) & (guess != cases.out_of_scope)
        return float(weights[moves].sum() / weights.sum())

    target = wrong(policy.threshold) * share_of_wrong
    best = np.sort(tops.best)
    for threshold in best[best > policy.threshold]:
        if wrong(float(threshold)) <= target:
            return float(threshold)
    return float(best[-1]) if len(best) else policy.threshold


def load_or_calibrate(
    entries: Sequence[FaqEntry],
    index: FaqIndex,
    embedder: Embedder,
    index_dir: Path,
    labelled: Sequence[LabelledCase] = (),
) -> Calibration:
    """The stored calibration when it was made for this index, else a new one (stored),
    refined by ``labelled`` questions when there are any.

    One process at a time calibrates in ``index_dir``: the action servers of ``helpdesk run
    --replicas`` each see a published entry, and the ones that waited load the first one's
    calibration instead of making it again (seconds to a minute of a core, and 0.75 GB for a
    10,000-entry FAQ, each)."""
    stored = stored_calibration(index, index_dir)
    if stored is not None:
        return stored
    index_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(index_dir / CALIBRATION_LOCK):
        stored = stored_calibration(index, index_dir)
        if stored is not None:
            return stored
        logger.info("calibrating the answer policy on the FAQ (%d phrasings)", index.size)
        calibration = calibrate(entries, index, embedder, labelled=labelled)
        save_calibration(index_dir, calibration)
    return calibration


def save_labelled(path: Path, labelled: Sequence[LabelledCase]) -> None:
    """Keep ``labelled`` (JSONL, as question sets are written) for later calibrations."""
    write_atomically(
        path, "".join(json.dumps(asdict(case), ensure_ascii=False) + "\n" for case in labelled)
    )


def load_labelled(path: Path | None, entries: Sequence[FaqEntry]) -> list[LabelledCase]:
    """The kept labelled questions still about this FAQ: one whose entry is gone is left
    out (the FAQ changed since; the others still say how its customers ask)."""
    if path is None or not path.exists():
        return []
    known = {entry.id for entry in entries}
    try:
        cases = [
            LabelledCase(str(raw["text"]), str(raw["lang"]), raw["expected_id"])
            for raw in map(json.loads, path.read_text(encoding="utf-8").splitlines())
        ]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        # Written by `kb calibrate`: damaged, it must not keep the bot from starting.
        logger.warning("labelled questions in %s unreadable, left out: %s", path, error)
        return []
    kept = [case for case in cases if case.expected_id is None or case.expected_id in known]
    if len(kept) < len(cases):
        logger.info(
            "%d labelled questions left out: their entries are gone", len(cases) - len(kept)
        )
    return kept


def load_offtopic(path: Path = OFFTOPIC_FILE) -> list[LabelledCase]:
    """The shipped off-topic messages, as out-of-scope cases."""
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        LabelledCase(str(text), str(lang), None) for lang, texts in loaded.items() for text in texts
    ]


def simulated_cases(
    entries: Sequence[FaqEntry],
    index: FaqIndex,
    embedder: Embedder,
    *,
    off_topic_vectors: Vectors | None = None,
    scale: ScaleMap | None = None,
) -> CaseSet:
    """Held-out phrasings, held-out entries and off-topic messages, scored (see module doc);
    ``off_topic_vectors``: the off-topic messages' when the caller embedded them already;
    ``scale``: the cross-lingual model's (None: the first model alone)."""
    cross = _cross_scoring(index, embedder, scale)
    entry_ids = sorted({text.entry_id for text in index.texts})
    vectors = index.vectors()
    queries = index.question_vectors(embedder)
    rng = np.random.default_rng(0)
    shuffled = list(entry_ids)
    rng.shuffle(shuffled)
    group = {entry_id: i % FOLDS for i, entry_id in enumerate(shuffled)}
    rank, per_entry = [], {entry_id: 0 for entry_id in entry_ids}
    for text in index.texts:
        rank.append(per_entry[text.entry_id])
        per_entry[text.entry_id] += 1
    entry_langs = _entry_languages(entries)
    parts = []
    for fold in range(FOLDS):
        held_phrasings = [
            row
            for row, text in enumerate(index.texts)
            if group[text.entry_id] != fold
            and rank[row] % FOLDS == fold
            and per_entry[text.entry_id] > 1
        ]
        held_phrasings = _at_most(held_phrasings, MAX_ASKED_PER_FOLD, rng)
        entry_rows = [row for row, text in enumerate(index.texts) if group[text.entry_id] == fold]
        held_entries = _at_most(entry_rows, MAX_ASKED_PER_FOLD, rng)
        held = set(held_phrasings) | set(entry_rows)  # a held entry is held whole
        train = [row for row in range(index.size) if row not in held]
        if not train:
            continue
        fold_entries = _without(entries, index, held)
        kept = {(e.id, lang) for e in fold_entries for lang in e.variants}
        part = _score_rows(
            entry_ids,
            queries[held_phrasings + held_entries],
            vectors[train],
            [index.texts[row].entry_id for row in train],
            LexicalIndex(fold_entries),
            [
                (index.texts[row].text, index.texts[row].lang)
                for row in held_phrasings + held_entries
            ],
            expected=[index.texts[row].entry_id for row in held_phrasings]
            + [None] * len(held_entries),
            kinds=["phrasing"] * len(held_phrasings) + ["held_entry"] * len(held_entries),
            entry_langs=entry_langs,
            cross=cross.rows(held_phrasings + held_entries, train) if cross else None,
        )
        part.variant_held_out = np.array(
            [
                (index.texts[row].entry_id, index.texts[row].lang) not in kept
                for row in held_phrasings
            ]
            + [False] * len(held_entries),
            dtype=bool,
        )
        parts.append(part)
    parts.append(
        _score_questions(
            entries,
            index,
            embedder,
            load_offtopic(),
            "off_topic",
            vectors=off_topic_vectors,
            cross=cross,
        )
    )
    in_scope = sum(_asked_in_own_language(part) for part in parts)
    if in_scope < MIN_IN_SCOPE_CASES:
        sample = _sample_paraphrases(entries, index, embedder)
        if sample is not None:
            lexical = LexicalIndex(entries)
            own = _own_questions(entries, index, lexical, sample, queries, cross, rng)
            parts += [own] if own is not None else []
            probes = _probe_cases(entries, index, lexical, sample, cross)
            parts += [probes] if probes is not None else []
    return _concat(parts)


def _in_own_language(cases: CaseSet) -> BoolArray:
    """Which cases are in scope with their entry's variant in their language kept."""
    in_scope: BoolArray = cases.gold != cases.out_of_scope
    if cases.variant_held_out is not None:
        in_scope &= ~cases.variant_held_out
    return in_scope


def _asked_in_own_language(cases: CaseSet) -> int:
    """The in-scope cases whose entry kept a variant in their language. A held-out translation
    tells how a question scores against its entry in another language, not how a customer's
    does against the variant in their own: an FAQ of one question per entry and language has
    only those, and borrows paraphrases as an FAQ of one language does. The sample FAQ
    without alternatives (translations its only held-out phrasings), MCC 0.854 → 0.902,
    answer accuracy 0.828 → 0.869, wrong 0.020 → 0.040; no public row changes (each borrowed
    already or has 40 phrasings to hold out in their own language) (2026-12-07)."""
    return int(_in_own_language(cases).sum())


def _at_most(rows: list[int], count: int, rng: np.random.Generator) -> list[int]:
    """``rows``, or ``count`` of them drawn at random (kept in order) when there are more."""
    if len(rows) <= count:
        return rows
    return sorted(int(row) for row in rng.choice(rows, size=count, replace=False))


@dataclass(frozen=True)
class SampleParaphrases:
    """The shipped sample FAQ's variants with several phrasings in this FAQ's languages, each
    phrasing embedded as a question and as the index embeds a phrasing: how true paraphrases
    score, for an FAQ that has too few phrasings of its own to hold out."""

    texts: list[tuple[str, str]]
    owner: list[int]  # each text's variant, numbered
    queries: Vectors
    indexed: Vectors

    def first(self) -> dict[int, int]:
        """Each variant's first text (its question)."""
        first: dict[int, int] = {}
        for row, variant in enumerate(self.owner):
            first.setdefault(variant, row)
        return first


def _sample_paraphrases(
    entries: Sequence[FaqEntry], index: FaqIndex, embedder: Embedder
) -> SampleParaphrases | None:
    """The sample's paraphrases in the FAQ's languages, embedded once for both kinds of
    borrowed case; None when the sample has none in them."""
    from knowledge.loader import load_faq

    languages = {lang for entry in entries for lang in entry.variants}
    variants = [
        variant
        for probe in load_faq(PROBE_FAQ)
        for lang, variant in probe.variants.items()
        if lang in languages and len(variant.phrasings) > 1
    ]
    if not variants:
        return None
    texts = [(phrasing, v.lang) for v in variants for phrasing in v.phrasings]
    owner = [i for i, v in enumerate(variants) for _ in v.phrasings]
    queries = embedder.encode([text for text, _ in texts], role="query")
    return SampleParaphrases(texts, owner, queries, _as_indexed(texts, queries, index, embedder))


def _own_questions(
    entries: Sequence[FaqEntry],
    index: FaqIndex,
    lexical: LexicalIndex,
    sample: SampleParaphrases,
    questions: Vectors,
    cross: CrossScoring | None,
    rng: np.random.Generator,
) -> CaseSet | None:
    """In-scope cases for an FAQ that has too few phrasings to hold any out: its own
    phrasings asked as a customer would ask them. Each scores every other entry as it does,
    and its own entry as one of the sample's paraphrases in its language scores that
    variant's question (one question, as a bare FAQ's entry has). Each question is paired
    with every such paraphrase, or with as many as MAX_ASKED_PER_FOLD cases allow at
    evenly spaced ranks of their scores (a random sample of that many questions, each with
    the median paraphrase, on a larger FAQ).

    The probes alone (below) stand for questions on topics this FAQ does not cover, whose
    runner-up is an unrelated entry: they left the clarification gap to a case or two (xSID
    without alternatives: one probe decided between gap 0 and 0.0196). Here the runner-up
    is the entry's own neighbour, as in real traffic. Public rows without alternatives, MCC
    with the probes alone → with these as well: HINT3 0.577 / 0.475 / 0.342 → 0.575 / 0.463
    / 0.352, xSID 0.674 → 0.677, translated once 0.464 → 0.518, the sample pared to English
    0.757 → 0.890 (2026-12-07). Five times as many cases moved HINT3 curekart and xSID by
    two hundredths either way (0.491, 0.651) and cost a 10k-entry bare FAQ's calibration
    1.2 GB more memory instead of 0.25.
    """
    first = sample.first()
    pairs: dict[str, list[int]] = {}
    own_dense: dict[int, float] = {}
    own_words: dict[int, float] = {}
    for row, (text, lang) in enumerate(sample.texts):
        question = first[sample.owner[row]]
        if question != row:
            pairs.setdefault(lang, []).append(row)
            own_dense[row] = float(sample.queries[row] @ sample.indexed[question])
            own_words[row] = lexical.coverage_by(text, lang, [sample.texts[question][0]])
    for ranked in pairs.values():
        ranked.sort(key=lambda row: own_dense[row])
    asked = _at_most(
        [row for row, text in enumerate(index.texts) if text.lang in pairs],
        MAX_ASKED_PER_FOLD,
        rng,
    )
    if not asked:
        return None
    per_question = max(1, MAX_ASKED_PER_FOLD // len(asked))
    combos = [
        (row, pair) for row in asked for pair in _spread(pairs[index.texts[row].lang], per_question)
    ]
    scored = _score_rows(
        sorted({text.entry_id for text in index.texts}),
        questions[asked],
        index.vectors(),
        [text.entry_id for text in index.texts],
        lexical,
        [(index.texts[row].text, index.texts[row].lang) for row in asked],
        expected=[index.texts[row].entry_id for row in asked],
        kinds=["own_question"] * len(asked),
        entry_langs=_entry_languages(entries),
        cross=cross.rows(asked, list(range(index.size))) if cross else None,
    )
    position = {row: i for i, row in enumerate(asked)}
    rows = np.array([position[row] for row, _ in combos], dtype=np.int64)
    dense, words, gold = scored.dense[rows], scored.lexical[rows], scored.gold[rows]
    cases = np.arange(len(combos))
    dense[cases, gold] = [own_dense[pair] for _, pair in combos]
    words[cases, gold] = [own_words[pair] for _, pair in combos]
    return CaseSet(
        entry_ids=scored.entry_ids,
        dense=dense,
        lexical=words,
        gold=gold,
        langs=[scored.langs[row] for row in rows],
        kinds=["own_question"] * len(rows),
        lacks=None if scored.lacks is None else scored.lacks[rows],
    )


def _spread(ranked: list[int], count: int) -> list[int]:
    """``count`` of ``ranked`` at evenly spaced ranks (all of them when there are no more)."""
    if count >= len(ranked):
        return ranked
    return [ranked[int((i + 0.5) * len(ranked) / count)] for i in range(count)]


def _probe_cases(
    entries: Sequence[FaqEntry],
    index: FaqIndex,
    lexical: LexicalIndex,
    sample: SampleParaphrases,
    cross: CrossScoring | None = None,
) -> CaseSet | None:
    """In-scope cases for an FAQ that has too few phrasings to hold any out.

    Each entry of the shipped sample FAQ with several phrasings in one of this FAQ's
    languages becomes, in turn, one extra entry of this FAQ, and each of its phrasings is
    asked against this FAQ plus that entry without it. How a true paraphrase scores among
    this FAQ's entries is what the threshold needs to know. Its words count too: each
    phrasing's coverage by the variant's other phrasings. Without them the FAQ's entries,
    which share a probe's words, outranked it as if it were a wrong answer, and the bar
    rose; with its answer as well, xSID's bare FAQ did worse (README, 2026-12-06).

    The probes are the sample's entries whose phrasings this FAQ's own entries outrank at
    most half the time: a topic the FAQ covers cannot stand for a question it would answer
    only through the probe. Until 2026-12-07 only the sample itself (its ids) was so
    filtered; an FAQ on the sample's topics under its own ids kept the probes it answers,
    and they raised its bar (the sample pared to English, ids renamed: answer accuracy 0.69
    → 0.59). HINT3's bare FAQs, MCC 0.577 / 0.468 / 0.319 with every probe, 0.577 / 0.475 /
    0.342 filtered. A probe entry shaped as a bare FAQ's (its variant's first phrasing alone,
    the others asked against it) moved HINT3's by a hundredth either way (0.565 / 0.484 /
    0.348) and lost on xSID's bare FAQ (0.674 → 0.543) and the sample pared to English
    (0.757 → 0.678) (2026-12-07).
    """
    texts, owner, queries = sample.texts, sample.owner, sample.queries
    entry_ids = sorted({text.entry_id for text in index.texts})
    cases = _score_rows(
        entry_ids,
        queries,
        index.vectors(),
        [text.entry_id for text in index.texts],
        lexical,
        texts,
        expected=[None] * len(texts),
        kinds=["probe"] * len(texts),
        entry_langs=_entry_languages(entries),
        cross=cross.questions([text for text, _ in texts]) if cross else None,
    )
    probe_column = np.full(len(texts), -np.inf)
    probe_words = np.zeros(len(texts))
    siblings = queries @ sample.indexed.T
    for row, variant in enumerate(owner):
        others = [col for col, o in enumerate(owner) if o == variant and col != row]
        closest = np.sort(siblings[row, others])[::-1][:ENTRY_TOP_K]
        probe_column[row] = closest.mean()
        text, lang = texts[row]
        rest = [texts[col][0] for col in others]
        probe_words[row] = lexical.coverage_by(text, lang, rest)
    cases = _with_probe_column(cases)
    cases.dense[:, -1] = probe_column
    cases.lexical[:, -1] = probe_words
    cases.gold[:] = len(entry_ids)  # the probe column
    outranked = cases.dense[:, :-1].max(axis=1) > probe_column
    owners = np.array(owner)
    kept = [i for i in sorted(set(owner)) if outranked[owners == i].mean() <= 0.5]
    return _subset(cases, np.isin(owners, kept)) if kept else None


def _as_indexed(
    texts: Sequence[tuple[str, str]], queries: Vectors, index: FaqIndex, embedder: Embedder
) -> Vectors:
    """The probes' phrasings embedded as the index's are, so that a probe entry is scored as
    the FAQ's entries are: ``queries`` themselves unless the index is blended or the model
    puts another prefix before a phrasing. With a blended index and a question's vectors in
    their place, the public FAQs without alternatives indexed blended (forced: the product
    keeps them single) calibrated worse: HINT3 MCC 0.558 / 0.510 / 0.347 against 0.590 /
    0.513 / 0.346 so, xSID 0.574 against 0.583 (2026-12-07)."""
    if not index.blended and embedder.prefixes.symmetric:
        return queries
    return embedder.encode([text for text, _ in texts], role="passage", blended=index.blended)


def _subset(cases: CaseSet, rows: BoolArray | slice) -> CaseSet:
    """The cases of ``rows`` (a slice: views of the cases' arrays, no copy)."""

    def part(array: npt.NDArray[Any] | None) -> Any:
        return None if array is None else array[rows]

    positions = range(len(cases.langs))[rows] if isinstance(rows, slice) else np.flatnonzero(rows)
    return CaseSet(
        entry_ids=cases.entry_ids,
        dense=cases.dense[rows],
        lexical=cases.lexical[rows],
        gold=cases.gold[rows],
        langs=[cases.langs[i] for i in positions],
        kinds=[cases.kinds[i] for i in positions],
        lacks=part(cases.lacks),
        variant_held_out=part(cases.variant_held_out),
    )


def _with_probe_column(cases: CaseSet) -> CaseSet:
    """``cases`` with one more entry column (scored -inf), its out-of-scope index moved."""
    width = len(cases.entry_ids) + 1
    none = np.zeros((0, width))
    wider = CaseSet([*cases.entry_ids, PROBE_ENTRY], none, none, np.zeros(0, np.int64), [], [])
    return _concat([cases, wider])


def _without(entries: Sequence[FaqEntry], index: FaqIndex, held: set[int]) -> list[FaqEntry]:
    """The FAQ with the ``held`` rows' phrasings removed (and entries left with none)."""
    removed: dict[tuple[str, str], set[str]] = {}
    for row in held:
        text = index.texts[row]
        removed.setdefault((text.entry_id, text.lang), set()).add(text.text)
    kept = []
    for entry in entries:
        variants = {}
        for lang, variant in entry.variants.items():
            gone = removed.get((entry.id, lang), set())
            phrasings = [p for p in variant.phrasings if p not in gone]
            if phrasings:
                variants[lang] = FaqVariant(
                    lang, phrasings[0], variant.answer, tuple(phrasings[1:])
                )
        if variants:
            kept.append(FaqEntry(entry.id, variants, entry.tags))
    return kept


def _score_questions(
    entries: Sequence[FaqEntry],
    index: FaqIndex,
    embedder: Embedder,
    questions: Sequence[LabelledCase],
    kind: str,
    *,
    vectors: Vectors | None = None,
    cross: CrossScoring | None = None,
) -> CaseSet:
    """``questions`` asked against the whole FAQ (``vectors``: theirs, if embedded already)."""
    entry_ids = sorted({text.entry_id for text in index.texts})
    if vectors is None:
        vectors = embedder.encode([q.text for q in questions], role="query")
    return _score_rows(
        entry_ids,
        vectors,
        index.vectors(),
        [text.entry_id for text in index.texts],
        LexicalIndex(entries),
        [(q.text, q.lang) for q in questions],
        expected=[q.expected_id for q in questions],
        kinds=[kind] * len(questions),
        entry_langs=_entry_languages(entries),
        cross=cross.questions([q.text for q in questions]) if cross else None,
    )


@dataclass(frozen=True)
class CrossRows:
    """The cross-lingual model's vectors of some asked texts and of the phrasings they are
    scored against (knowledge/cross_lingual.py)."""

    queries: Vectors
    phrasings: Vectors
    phrasing_langs: list[str]
    scale: ScaleMap


@dataclass(frozen=True)
class CrossScoring:
    """The cross-lingual model's part of a calibration: every phrasing's vector."""

    model: CrossLingualModel
    phrasings: Vectors
    langs: list[str]
    scale: ScaleMap

    def rows(self, asked: list[int], train: list[int]) -> CrossRows:
        """Phrasings ``asked`` against phrasings ``train`` (rows of the index)."""
        return CrossRows(
            self.phrasings[asked],
            self.phrasings[train],
            [self.langs[row] for row in train],
            self.scale,
        )

    def questions(self, texts: list[str]) -> CrossRows:
        """New texts against every phrasing."""
        return CrossRows(self.model.encode(texts), self.phrasings, self.langs, self.scale)


def _cross_scoring(
    index: FaqIndex, embedder: Embedder, scale: ScaleMap | None
) -> CrossScoring | None:
    if scale is None or embedder.cross_lingual is None or index.size == 0:
        return None
    return CrossScoring(
        embedder.cross_lingual,
        index.second_vectors(embedder),
        [text.lang for text in index.texts],
        scale,
    )


def _entry_languages(entries: Sequence[FaqEntry]) -> dict[str, frozenset[str]]:
    return {entry.id: frozenset(entry.variants) for entry in entries}


def _score_rows(
    entry_ids: list[str],
    queries: Vectors,
    train_vectors: Vectors,
    train_entries: list[str],
    lexical: LexicalIndex,
    asked: Sequence[tuple[str, str]],
    *,
    expected: Sequence[str | None],
    kinds: list[str],
    entry_langs: Mapping[str, frozenset[str]],
    cross: CrossRows | None = None,
) -> CaseSet:
    """Dense and lexical scores of each asked text against each entry (see decision.py);
    ``cross``: the cross-lingual model's vectors of the same rows and phrasings."""
    dense = np.full((len(asked), len(entry_ids)), -np.inf, dtype=STORED)
    columns: dict[str, list[int]] = {}
    for column, entry_id in enumerate(train_entries):
        columns.setdefault(entry_id, []).append(column)
    for start in range(0, len(asked), COSINE_ROWS):
        # A block of questions at a time: questions x phrasings of a 100k FAQ is gigabytes.
        cosines = queries[start : start + COSINE_ROWS] @ train_vectors.T
        if cross is not None:
            langs = [lang for _, lang in asked[start : start + COSINE_ROWS]]
            second = cross.queries[start : start + COSINE_ROWS] @ cross.phrasings.T
            pairs = cross_pairs(langs, cross.phrasing_langs)
            cosines = mixed(cosines, second, pairs, cross.scale)
        for j, entry_id in enumerate(entry_ids):
            cols = columns.get(entry_id)
            if not cols:
                continue
            block = cosines[:, cols]
            if block.shape[1] > ENTRY_TOP_K:
                block = -np.partition(-block, ENTRY_TOP_K - 1, axis=1)[:, :ENTRY_TOP_K]
            dense[start : start + COSINE_ROWS, j] = block.mean(axis=1)
    lexical_scores = np.zeros_like(dense)
    position = {entry_id: j for j, entry_id in enumerate(entry_ids)}
    for i, (text, lang) in enumerate(asked):
        for entry_id, (coverage, _) in lexical.coverages(text, lang).items():
            if entry_id in position and np.isfinite(dense[i, position[entry_id]]):
                lexical_scores[i, position[entry_id]] = coverage
    none = len(entry_ids)
    return CaseSet(
        entry_ids=entry_ids,
        dense=dense,
        lexical=lexical_scores,
        gold=np.array([none if e is None else position[e] for e in expected], dtype=np.int64),
        langs=[lang for _, lang in asked],
        kinds=kinds,
        lacks=_lacking(entry_ids, entry_langs, [lang for _, lang in asked]),
    )


def _lacking(
    entry_ids: list[str], entry_langs: Mapping[str, frozenset[str]], langs: list[str]
) -> BoolArray:
    """Row i, column j: entry j has no variant in ``langs[i]`` (one row per language built,
    then repeated: a large FAQ's cases x entries would be millions of Python booleans)."""
    distinct = sorted(set(langs))
    has = [entry_langs.get(entry_id, frozenset()) for entry_id in entry_ids]
    rows = np.array(
        [[lang not in languages for languages in has] for lang in distinct], dtype=bool
    ).reshape(len(distinct), len(entry_ids))
    position = {lang: i for i, lang in enumerate(distinct)}
    lacks: BoolArray = rows[np.array([position[lang] for lang in langs], dtype=np.int64)]
    return lacks


def _concat(parts: list[CaseSet]) -> CaseSet:
    """The cases of ``parts`` stacked, emptying the list: each part is let go once copied, so
    that a large FAQ's cases are held about once, not twice, at the peak. A part scored
    against the FAQ's entries alone, when a later part adds the probe entry, scores that
    column -inf with no words, and its out-of-scope cases move to the last column.
    """
    entry_ids = max((part.entry_ids for part in parts), key=len)
    width, rows = len(entry_ids), sum(len(part.gold) for part in parts)
    dense = np.zeros((rows, width), dtype=STORED)  # pages taken as written, part by part
    lexical = np.zeros((rows, width), dtype=STORED)
    lacks = np.zeros((rows, width), dtype=bool)
    variant_held_out = np.zeros(rows, dtype=bool)
    gold = np.empty(rows, dtype=np.int64)
    langs: list[str] = []
    kinds: list[str] = []
    start = 0
    while parts:
        part = parts.pop(0)
        end, columns = start + len(part.gold), len(part.entry_ids)
        assert entry_ids[:columns] == part.entry_ids
        dense[start:end, :columns] = part.dense
        dense[start:end, columns:] = -np.inf
        lexical[start:end, :columns] = part.lexical
        if part.lacks is not None:
            lacks[start:end, :columns] = part.lacks
        if part.variant_held_out is not None:
            variant_held_out[start:end] = part.variant_held_out
        gold[start:end] = np.where(part.gold == part.out_of_scope, width, part.gold)
        langs += part.langs
        kinds += part.kinds
        start = end
    return CaseSet(entry_ids, dense, lexical, gold, langs, kinds, lacks, variant_held_out)


def _lexical_weights(cases: CaseSet) -> tuple[dict[str, float], frozenset[str]]:
    """Per language (and ``*`` overall): the weight that ranks in-scope cases best (the
    FAQ's own held-out phrasings and labelled questions; not the probes, whose entry's words
    are many paraphrases where a bare FAQ's entry has one question, and which pick as the
    prior would or worse: see LEXICAL_WEIGHT_PRIOR);
    of weights that rank them equally well, the one nearest LEXICAL_WEIGHT_PRIOR. And the
    languages that got the prior for want of cases.

    A case whose entry lost its variant in the case's language when the phrasing was held
    out tells nothing about words: a customer's question meets that variant. A language of
    the FAQ left with too few other cases (one phrasing per entry) gets the prior: the
    languages that have cases, usually the FAQ's first, are where the dense half is at its
    best and words add least.
    """
    asked = (cases.gold != cases.out_of_scope) & np.isin(cases.kinds, ["phrasing", "labelled"])
    usable = asked & _in_own_language(cases)
    langs = np.array(cases.langs)

    def best(rows: npt.NDArray[np.bool_]) -> float:
        def right(weight: float) -> int:
            fused = cases.dense[rows].astype(float) + weight * cases.lexical[rows].astype(float)
            return int((fused.argmax(axis=1) == cases.gold[rows]).sum())

        return max(LEXICAL_WEIGHT_GRID, key=lambda w: (right(w), -abs(w - LEXICAL_WEIGHT_PRIOR)))

    weights = {"*": best(usable)}  # no usable case: every weight ties, the prior
    undecided = set()
    for lang in sorted(set(langs[asked].tolist())):
        rows = usable & (langs == lang)
        if rows.sum() >= MIN_PHRASINGS_PER_LANGUAGE:
            weights[lang] = best(rows)
        else:
            weights[lang] = LEXICAL_WEIGHT_PRIOR
            undecided.add(str(lang))
    return weights, frozenset(undecided)


def _one_question_languages(entries: Sequence[FaqEntry]) -> frozenset[str]:
    """The languages in which every variant is one question, when the FAQ has alternatives
    in another (see AnswerPolicy.confirm_only_languages); none in an FAQ without any."""
    phrasings: dict[str, int] = {}
    for entry in entries:
        for lang, variant in entry.variants.items():
            phrasings[lang] = max(phrasings.get(lang, 0), len(variant.phrasings))
    if all(count <= 1 for count in phrasings.values()):
        return frozenset()
    return frozenset(lang for lang, count in phrasings.items() if count == 1)


def _case_weights(cases: CaseSet) -> FloatArray:
    """Each case's weight in the objective (see KIND_SHARES and LABELLED_SHARE)."""
    kinds = np.array(cases.kinds)
    labelled = kinds == "labelled"
    simulated_share = 1.0 - LABELLED_SHARE if labelled.any() else 1.0
    weights = np.zeros(len(kinds))
    shares = {kind: KIND_SHARES.get(kind, 0.0) for kind in ("held_entry", "off_topic")}
    in_scope = np.isin(kinds, IN_SCOPE_KINDS)
    shares.update(
        {
            kind: KIND_SHARES["phrasing"] * (kinds == kind).sum() / in_scope.sum()
            for kind in IN_SCOPE_KINDS
            if in_scope.any()
        }
    )
    present = {kind: share for kind, share in shares.items() if (kinds == kind).any()}
    total = sum(present.values()) or 1.0
    for kind, share in present.items():
        rows = kinds == kind
        weights[rows] = simulated_share * share / total / rows.sum()
    if labelled.any():
        weights[labelled] = LABELLED_SHARE / labelled.sum()
    return weights


class TopTwo(NamedTuple):
    """Each case's best and second-best entry column and their scores."""

    first: IntArray
    s1: FloatArray
    second: IntArray
    s2: FloatArray


def top_two(fused: FloatArray, order: FloatArray | None = None) -> TopTwo:
    """The two first columns of every row by ``order`` (``fused`` itself when None; see
    :func:`ranking_scores`) with their ``fused`` scores, the lower column first on a tie (as
    :meth:`AnswerPolicy.decide` orders entries by id): two passes, no sort of the row."""
    order = fused if order is None else order
    rows = np.arange(len(fused))
    first = order.argmax(axis=1)
    if fused.shape[1] < 2:
        return TopTwo(first, fused[rows, first], first, np.full(len(fused), -np.inf))
    rest = order.copy()
    rest[rows, first] = -np.inf
    second = rest.argmax(axis=1)
    return TopTwo(first, fused[rows, first], second, fused[rows, second])


def predicted(cases: CaseSet, top: TopTwo, threshold: float, gap: float) -> IntArray:
    """What :meth:`AnswerPolicy.decide` does on every case, as the column answered with.

    Declined: the out-of-scope column. A clarifying question counts as right when the
    expected entry is one of the two choices, and as the first choice otherwise (on an
    out-of-scope question, offering two entries is a wrong move, not a decline).
    ``top`` is :func:`top_two` of the cases' scores, computed once for every threshold tried.
    """
    first, s1, second, s2 = top
    answers = s1 >= threshold
    clarifies = answers & (s2 >= threshold) & (s1 - s2 <= gap) & (first != second)
    offered_right = (cases.gold == first) | (cases.gold == second)
    chosen = np.where(clarifies & offered_right, cases.gold, first)
    return np.where(answers, chosen, cases.out_of_scope).astype(np.int64)


def weighted_mcc(gold: IntArray, guess: IntArray, weights: FloatArray, classes: int) -> float:
    """Multi-class Matthews correlation (Gorodkin's R_K, as scikit-learn computes it)."""
    true_counts = np.bincount(gold, weights=weights, minlength=classes)
    pred_counts = np.bincount(guess, weights=weights, minlength=classes)
    correct = float(weights[gold == guess].sum())
    total = float(weights.sum())
    covariance = correct * total - float(true_counts @ pred_counts)
    spread = (total**2 - float(pred_counts @ pred_counts)) * (
        total**2 - float(true_counts @ true_counts)
    )
    return covariance / float(np.sqrt(spread)) if spread > 0 else 0.0


def _offered(tops: RowTops, policy: AnswerPolicy, declined: BoolArray) -> BoolArray:
    """Which of each case's ``tops.shown`` entries a declined case is offered as suggestions
    (as the bot decides)."""
    assert tops.shown is not None and tops.shown_scores is not None
    if policy.suggestion_bar is None:
        return np.zeros(tops.shown.shape, dtype=bool)
    offered: BoolArray = declined[:, None] & (tops.shown_scores >= policy.suggestion_bar)
    return offered


def _choose_operating_point(cases: CaseSet, top: TopTwo) -> tuple[float, float]:
    """The (threshold, gap) with the best weighted MCC (``top``: the cases' :func:`top_two`);
    on a plateau of equally good thresholds the middle one, so that a question a little above
    or below the cases is decided as they were.

    Of equally good gaps, the smallest: a clarifying question never costs MCC on an in-scope
    case (it counts as right when the entry is offered), so a wider gap scores at least as
    well while asking customers more often. The middle gap of the plateau instead (public
    rows, 2026-12-07) gained MCC on seven rows of eighteen and lost none, all of it bought
    with questions: xSID 0.890 → 0.900 with answer accuracy 0.806 → 0.723 (clarify rate 0.105
    → 0.196), the sample FAQ without alternatives outside English 0.934 → 0.854 accuracy."""
    weights = _case_weights(cases)
    first, s1, _, s2 = top
    finite = np.isfinite(s1)
    if not (cases.gold[finite] != cases.out_of_scope).any():
        # No phrasing could be held out (one per entry): nothing says how high a right
        # answer scores, so answer only what scores above every simulated negative.
        return float(np.nextafter(s1[finite].max(), np.inf)), 0.0
    candidates = np.unique(np.quantile(s1[finite], np.linspace(0, 1, THRESHOLD_CANDIDATES)))
    in_scope_right = (cases.gold == first) & np.isfinite(s2)
    gaps = [0.0]
    if in_scope_right.any():
        gaps += [float(g) for g in np.quantile((s1 - s2)[in_scope_right], GAP_QUANTILES)]
    classes = cases.out_of_scope + 1
    results = [
        (weighted_mcc(cases.gold, predicted(cases, top, t, g), weights, classes), g, t)
        for g in sorted(set(gaps))
        for t in candidates
    ]
    best = max(score for score, _, _ in results)
    plateau = [(g, t) for score, g, t in results if score >= best - 1e-9]
    smallest_gap = min(g for g, _ in plateau)
    thresholds = sorted(t for g, t in plateau if g == smallest_gap)
    return float(thresholds[len(thresholds) // 2]), float(smallest_gap)


def _figures(
    cases: CaseSet, tops: RowTops, policy: AnswerPolicy, *, labelled: bool
) -> dict[str, Any]:
    """How the chosen policy does on the cases it was chosen on, per kind (``suggested``:
    declined with entries offered; ``rescued``: declined with the right one among them)."""
    assert tops.shown is not None
    guess = predicted(cases, tops.top, policy.threshold, policy.clarify_gap)
    offered = _offered(tops, policy, guess == cases.out_of_scope)
    rescued = (offered & (tops.shown == cases.gold[:, None])).any(axis=1)
    kinds = np.array(cases.kinds)
    figures: dict[str, Any] = {"labelled_questions": labelled, "cases": len(kinds)}
    for kind in sorted(set(cases.kinds)):
        rows = kinds == kind
        gold, answered = cases.gold[rows], guess[rows]
        in_scope = gold != cases.out_of_scope
        figures[kind] = {
            "n": int(rows.sum()),
            "right": round(float((answered[in_scope] == gold[in_scope]).mean()), 4)
            if in_scope.any()
            else None,
            "declined": round(float((answered == cases.out_of_scope).mean()), 4),
            "wrong": round(
                float(((answered != gold) & (answered != cases.out_of_scope)).mean()), 4
            ),
            "suggested": round(float(offered[rows].any(axis=1).mean()), 4),
            "rescued": round(float(rescued[rows][in_scope].mean()), 4) if in_scope.any() else None,
        }
    figures["weighted_mcc"] = round(
        weighted_mcc(cases.gold, guess, _case_weights(cases), cases.out_of_scope + 1), 4
    )
    return figures
