"""`helpdesk kb eval`: how well the bot's answer decision does on a labelled question set.

Every question goes through :meth:`KnowledgeBase.answer` — the decision the bot makes, with
the policy calibrated on the FAQ alone — against a throwaway index built from the FAQ CSV.
A clarifying question on an out-of-scope question counts as a wrong move, not a decline.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.languages import base_language
from knowledge.base import KnowledgeBase
from knowledge.calibration import weighted_mcc
from knowledge.decision import Answer
from knowledge.embedder import Embedder
from knowledge.errors import KnowledgeError
from knowledge.loader import load_faq
from knowledge.models import FaqEntry

#: HINT3's label for "the bot found nothing".
NO_ANSWER = "NO_NODES_DETECTED"
#: The figures of :func:`metrics` that judge the bot's moves (the others judge its ranking).
MOVE_FIGURES = (
    "answer_accuracy",
    "wrong_answer_rate",
    "oos_recall",
    "clarify_rate",
    "mcc",
    "mcc_first_choice",
)


class QuestionSetError(KnowledgeError):
    """The labelled question file is malformed; the message names the line."""


@dataclass(frozen=True)
class LabelledQuestion:
    text: str
    lang: str
    expected_id: str | None  # None: out of scope, the right move is not to answer

    @property
    def in_scope(self) -> bool:
        return self.expected_id is not None


@dataclass(frozen=True)
class Outcome:
    question: LabelledQuestion
    answer: Answer
    latency_ms: float

    @property
    def rank(self) -> int | None:
        """1-based rank of the expected entry among the hits, if present."""
        ids = [hit.entry_id for hit in self.answer.hits]
        expected = self.question.expected_id
        return ids.index(expected) + 1 if expected in ids else None

    @property
    def answered_right(self) -> bool:
        return self.answer.answered and self.answer.entry_id == self.question.expected_id

    @property
    def answered_wrong(self) -> bool:
        return self.answer.answered and self.answer.entry_id != self.question.expected_id

    @property
    def wrong_move(self) -> bool:
        """A wrong answer, or two entries offered for a question the FAQ does not cover."""
        return self.answered_wrong or (self.answer.clarifying and not self.question.in_scope)

    @property
    def declined(self) -> bool:
        return not self.answer.answered and not self.answer.clarifying

    @property
    def suggested_expected(self) -> bool:
        """Declined, with the expected entry among the entries offered as buttons."""
        return self.declined and any(
            choice.entry_id == self.question.expected_id for choice in self.answer.suggestions
        )

    @property
    def label(self) -> str:
        """The move as HINT3 labels it: the entry answered with, or NO_NODES_DETECTED.

        A clarifying question is labelled with the expected entry when it is among the
        choices (the customer picks it), else with the first choice.
        """
        if self.answer.entry_id is not None:
            return self.answer.entry_id
        choices = [choice.entry_id for choice in self.answer.choices]
        if choices:
            return self.question.expected_id if self.question.expected_id in choices else choices[0]
        return NO_ANSWER

    @property
    def first_choice_label(self) -> str:
        """The move as a bot that makes one guess would have it: a clarifying question
        labelled with its first choice, whichever the customer would pick (HINT3's peers
        answer with one intent; :attr:`label` gives ours a second guess)."""
        if self.answer.entry_id is None and self.answer.choices:
            return self.answer.choices[0].entry_id
        return self.label


def load_questions(path: Path, known_ids: set[str]) -> list[LabelledQuestion]:
    """Parse the JSONL question set; an unknown ``expected_id`` is an error, not a miss."""
    questions = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise QuestionSetError(f"{path}: cannot read: {error}") from error
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            question = LabelledQuestion(
                text=str(raw["text"]), lang=str(raw["lang"]), expected_id=raw["expected_id"]
            )
        except (ValueError, KeyError, TypeError) as error:
            raise QuestionSetError(
                f"{path}, line {number}: expected {{text, lang, expected_id}}: {error}"
            ) from error
        language = base_language(question.lang)
        if language is None:
            raise QuestionSetError(f"{path}, line {number}: not a language code: '{question.lang}'")
        question = replace(question, lang=language)  # "en-US" is the FAQ's "en" (core/languages.py)
        if question.expected_id is not None and question.expected_id not in known_ids:
            raise QuestionSetError(
                f"{path}, line {number}: expected_id '{question.expected_id}' is not in the FAQ"
            )
        questions.append(question)
    if not questions:
        raise QuestionSetError(f"{path}: no questions")
    return questions


def run_questions(
    *,
    faq: Path,
    questions_paths: Sequence[Path],
    embedder: Embedder,
    default_language: str = "en",
    answer_threshold: float | None = None,
) -> list[Outcome]:
    """Load the FAQ (YAML directory or file, or CSV) and the labelled sets (pooled), and put
    every question to the bot.

    Several question sets are pooled: per-language figures need more than a handful of
    questions per language before one miss stops moving them by ten points.
    """
    entries = load_faq(faq)
    known_ids = {entry.id for entry in entries}
    questions = [q for path in questions_paths for q in load_questions(path, known_ids)]
    return ask_all(
        entries,
        questions,
        embedder,
        default_language=default_language,
        answer_threshold=answer_threshold,
    )


def ask_all(
    entries: Sequence[FaqEntry],
    questions: Sequence[LabelledQuestion],
    embedder: Embedder,
    *,
    default_language: str = "en",
    answer_threshold: float | None = None,
) -> list[Outcome]:
    """Every question through the bot's decision, on a throwaway index calibrated on ``entries``."""
    with tempfile.TemporaryDirectory(prefix="helpdesk-eval-") as index_dir:
        kb = KnowledgeBase(
            entries,
            embedder,
            Path(index_dir),
            default_language=default_language,
            answer_threshold=answer_threshold,
        )
        kb.warm_up(progress=False)
        return [_ask(kb, question) for question in questions]


def without_alternatives(entries: Sequence[FaqEntry], keep: str | None = "en") -> list[FaqEntry]:
    """The FAQ with every variant but ``keep``'s (None: every variant) reduced to its one
    question: the plain FAQ an operator imports, for the ablation that checks answers do not
    hang on alternatives."""
    return [
        FaqEntry(
            entry.id,
            {
                lang: variant if lang == keep else replace(variant, alternatives=())
                for lang, variant in entry.variants.items()
            },
            entry.tags,
        )
        for entry in entries
    ]


def _ask(kb: KnowledgeBase, question: LabelledQuestion) -> Outcome:
    started = time.perf_counter()
    answer = kb.answer(question.text)
    return Outcome(question, answer, (time.perf_counter() - started) * 1000)


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    """The report: overall metrics, per language, and latency percentiles."""
    by_lang: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_lang[outcome.question.lang].append(outcome)
    latencies = np.array([outcome.latency_ms for outcome in outcomes])
    return {
        **metrics(outcomes),
        "per_language": {lang: metrics(group) for lang, group in sorted(by_lang.items())},
        "latency_ms": {
            "p50": round(float(np.percentile(latencies, 50)), 2),
            "p95": round(float(np.percentile(latencies, 95)), 2),
        },
    }


def mcc(outcomes: Sequence[Outcome], *, first_choice: bool = False) -> float:
    """Multi-class Matthews correlation of the moves, as HINT3 computes it
    (``first_choice``: of :attr:`Outcome.first_choice_label`, one guess per question)."""
    moves = [o.first_choice_label if first_choice else o.label for o in outcomes]
    expected = [o.question.expected_id or NO_ANSWER for o in outcomes]
    column = {label: i for i, label in enumerate(sorted({*moves, *expected}))}
    gold = np.array([column[label] for label in expected], dtype=np.int64)
    guess = np.array([column[label] for label in moves], dtype=np.int64)
    return weighted_mcc(gold, guess, np.ones(len(outcomes)), len(column))


def metrics(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Top-k, answer accuracy, wrong moves, out-of-scope recall, clarify rate and MCC (and
    MCC with one guess per question, ``mcc_first_choice``); and how declines fared: in-scope
    questions whose entry was offered as a suggestion (``suggest_rescue``), out-of-scope ones
    offered any (``oos_suggested``). Suggestions do not change the move: a decline with
    suggestions is a decline in every other figure."""
    in_scope = [o for o in outcomes if o.question.in_scope]
    out_of_scope = [o for o in outcomes if not o.question.in_scope]
    ranks = [o.rank for o in in_scope]
    return {
        "n": len(outcomes),
        "n_in_scope": len(in_scope),
        "n_out_of_scope": len(out_of_scope),
        "top1": _ratio(sum(rank == 1 for rank in ranks), len(in_scope)),
        "top3": _ratio(sum(rank is not None and rank <= 3 for rank in ranks), len(in_scope)),
        "mrr": _ratio(sum(1 / rank for rank in ranks if rank), len(in_scope)),
        "answer_accuracy": _ratio(sum(o.answered_right for o in in_scope), len(in_scope)),
        "wrong_answer_rate": _ratio(sum(o.wrong_move for o in outcomes), len(outcomes)),
        "oos_recall": _ratio(sum(o.declined for o in out_of_scope), len(out_of_scope)),
        "clarify_rate": _ratio(sum(o.answer.clarifying for o in outcomes), len(outcomes)),
        "mcc": round(mcc(outcomes), 4) if outcomes else None,
        "mcc_first_choice": round(mcc(outcomes, first_choice=True), 4) if outcomes else None,
        "suggest_rescue": _ratio(sum(o.suggested_expected for o in in_scope), len(in_scope)),
        "oos_suggested": _ratio(
            sum(o.declined and bool(o.answer.suggestions) for o in out_of_scope),
            len(out_of_scope),
        ),
    }


def details(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """Every question with the bot's move, its top hits and their scores (``--details``)."""
    return [
        {
            "text": o.question.text,
            "lang": o.question.lang,
            "expected_id": o.question.expected_id,
            "detected_lang": o.answer.language.lang,
            "move": "answer"
            if o.answer.answered
            else "clarify"
            if o.answer.clarifying
            else "decline",
            "entry_id": o.answer.entry_id,
            "choices": [choice.entry_id for choice in o.answer.choices],
            "suggestions": [choice.entry_id for choice in o.answer.suggestions],
            "right": o.answered_right or (o.declined and not o.question.in_scope),
            "hits": [
                {"entry_id": h.entry_id, "score": h.score, "dense": h.dense, "lexical": h.lexical}
                for h in o.answer.hits[:3]
            ],
            "latency_ms": round(o.latency_ms, 2),
        }
        for o in outcomes
    ]


def _ratio(part: float, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def format_report(report: dict[str, Any]) -> str:
    """A human-readable table of the same report."""
    columns = ("n", "top1", "top3", *MOVE_FIGURES)
    rows = [("all", report), *report["per_language"].items()]
    lines = ["lang  " + "  ".join(f"{c:>17}" for c in columns)]
    for name, metrics in rows:
        cells = ["-" if metrics[c] is None else f"{metrics[c]}" for c in columns]
        lines.append(f"{name:<5} " + "  ".join(f"{cell:>17}" for cell in cells))
    latency = report["latency_ms"]
    lines.append(f"latency ms: p50 {latency['p50']}, p95 {latency['p95']}")
    return "\n".join(lines)
