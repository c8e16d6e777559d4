"""Choosing the answer thresholds from labelled data, and keeping them per embedding model.

The thresholds live in ``knowledge/calibration.json``, keyed by model name, written by
``helpdesk kb calibrate --write``: switching the model switches to its own calibration.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.base import Thresholds
from knowledge.models import SearchHit

CALIBRATION_FILE = Path(__file__).resolve().parent / "calibration.json"
DENSE_GRID = np.round(np.arange(0.40, 0.96, 0.025), 3)
LEXICAL_GRID = np.round(np.arange(0.20, 1.01, 0.05), 3)
#: The model's own languages get a fine grid; the others only need to find "almost never".
DENSE_OTHER_GRID = np.round(np.arange(0.50, 1.01, 0.05), 3)
MARGIN_OTHER_GRID = np.round(np.arange(0.0, 0.31, 0.025), 3)


@dataclass(frozen=True)
class Case:
    """A labelled question and the ranked hits the knowledge base gave it."""

    expected_id: str | None
    hits: tuple[SearchHit, ...]
    lang: str  # the language the bot detected, which picks the dense threshold


@dataclass(frozen=True)
class TradeOff:
    thresholds: Thresholds
    answer_accuracy: float
    wrong_answer_rate: float
    oos_recall: float


def score(cases: Sequence[Case], thresholds: Thresholds) -> TradeOff:
    """What the bot would do on ``cases`` with ``thresholds``."""
    in_scope = [c for c in cases if c.expected_id is not None]
    out_of_scope = [c for c in cases if c.expected_id is None]
    right = wrong = declined_oos = 0
    for case in cases:
        answered = thresholds.decide(case.hits, case.lang).entry_id
        if answered is None:
            declined_oos += case.expected_id is None
        elif answered == case.expected_id:
            right += 1
        else:
            wrong += 1
    return TradeOff(
        thresholds,
        answer_accuracy=right / len(in_scope) if in_scope else 0.0,
        wrong_answer_rate=wrong / len(cases) if cases else 0.0,
        oos_recall=declined_oos / len(out_of_scope) if out_of_scope else 1.0,
    )


def sweep(cases: Sequence[Case], model_languages: frozenset[str] | None) -> list[TradeOff]:
    """Every threshold combination of the grid, scored."""
    foreign = model_languages is not None
    return [
        score(
            cases,
            Thresholds(
                dense=float(d),
                dense_other=float(other),
                lexical=float(lex),
                model_languages=model_languages,
                margin_other=float(margin),
            ),
        )
        for d in DENSE_GRID
        for other in (DENSE_OTHER_GRID if foreign else [1.0])
        for margin in (MARGIN_OTHER_GRID if foreign else [0.0])
        for lex in LEXICAL_GRID
    ]


def frontier(trade_offs: Sequence[TradeOff]) -> list[TradeOff]:
    """The pairs no other pair beats on all three measures, by falling wrong-answer rate."""

    def key(t: TradeOff) -> tuple[float, float, float]:
        return (t.answer_accuracy, -t.wrong_answer_rate, t.oos_recall)

    best: dict[tuple[float, float, float], TradeOff] = {}
    for t in trade_offs:
        best.setdefault(key(t), t)
    kept = [
        t
        for t in best.values()
        if not any(
            all(a >= b for a, b in zip(key(o), key(t), strict=True)) and key(o) != key(t)
            for o in best.values()
        )
    ]
    return sorted(kept, key=lambda t: t.wrong_answer_rate, reverse=True)


def choose(trade_offs: Sequence[TradeOff], *, max_wrong: float, min_oos_recall: float) -> TradeOff:
    """Most right answers among the pairs within the limits; the strictest pair if none is.

    Ties go to the fewer wrong answers, then to the more out-of-scope questions declined.
    Many thresholds then still do exactly as well (a plateau): the one in its middle wins,
    as far as it can be from every labelled question's score, so that a new question a
    little above or below them is decided as they were. (Its upper edge, chosen before,
    sat just above the weakest right answer: 2-fold held-out answer_accuracy 0.81 there,
    0.84 in the middle, same wrong-answer rate.)
    """
    allowed = [
        t for t in trade_offs if t.wrong_answer_rate <= max_wrong and t.oos_recall >= min_oos_recall
    ]
    if not allowed:
        return max(trade_offs, key=lambda t: (-t.wrong_answer_rate, t.oos_recall, _strictness(t)))
    best = max(allowed, key=_outcome)
    return _middle([t for t in allowed if _outcome(t) == _outcome(best)])


def _outcome(t: TradeOff) -> tuple[float, float, float]:
    return (t.answer_accuracy, -t.wrong_answer_rate, t.oos_recall)


def _strictness(t: TradeOff) -> float:
    return (
        t.thresholds.dense
        + t.thresholds.dense_other
        + t.thresholds.lexical
        + t.thresholds.margin_other
    )


def _middle(plateau: Sequence[TradeOff]) -> TradeOff:
    """The member of ``plateau`` nearest its centre, each threshold scaled by its grid's span."""
    spans = [
        float(grid[-1] - grid[0]) or 1.0
        for grid in (DENSE_GRID, DENSE_OTHER_GRID, MARGIN_OTHER_GRID, LEXICAL_GRID)
    ]
    points = np.array(
        [
            [
                t.thresholds.dense,
                t.thresholds.dense_other,
                t.thresholds.margin_other,
                t.thresholds.lexical,
            ]
            for t in plateau
        ]
    ) / np.array(spans)
    distances = ((points - points.mean(axis=0)) ** 2).sum(axis=1)
    return min(
        zip(distances, plateau, strict=True), key=lambda pair: (pair[0], -_strictness(pair[1]))
    )[1]


def cross_validate(
    cases: Sequence[Case],
    model_languages: frozenset[str] | None,
    *,
    max_wrong: float,
    min_oos_recall: float,
    folds: int = 2,
) -> TradeOff:
    """Held-out estimate: choose on all folds but one, score on that one, average."""
    results = []
    for fold in range(folds):
        train = [c for i, c in enumerate(cases) if i % folds != fold]
        test = [c for i, c in enumerate(cases) if i % folds == fold]
        chosen = choose(
            sweep(train, model_languages), max_wrong=max_wrong, min_oos_recall=min_oos_recall
        )
        results.append(score(test, chosen.thresholds))
    return TradeOff(
        Thresholds(),
        answer_accuracy=float(np.mean([r.answer_accuracy for r in results])),
        wrong_answer_rate=float(np.mean([r.wrong_answer_rate for r in results])),
        oos_recall=float(np.mean([r.oos_recall for r in results])),
    )


def resolve_thresholds(
    model: str, *, dense: float | None = None, lexical: float | None = None
) -> Thresholds:
    """Explicit overrides, else the model's calibration, else the built-in defaults."""
    base = load_thresholds(model) or Thresholds()
    return replace(
        base,
        dense=base.dense if dense is None else dense,
        lexical=base.lexical if lexical is None else lexical,
    )


def load_thresholds(model: str, path: Path = CALIBRATION_FILE) -> Thresholds | None:
    """The calibrated thresholds for ``model``, if it was calibrated."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entry = stored.get(model)
    if not isinstance(entry, dict):
        return None
    languages = entry.get("model_languages")
    return Thresholds(
        dense=float(entry["dense"]),
        dense_other=float(entry.get("dense_other") or entry["dense"]),
        lexical=float(entry["lexical"]),
        model_languages=frozenset(languages) if languages else None,
        margin_other=float(entry.get("margin_other") or 0.0),
    )


def save_thresholds(
    model: str, chosen: TradeOff, details: dict[str, Any], path: Path = CALIBRATION_FILE
) -> None:
    """Record the chosen thresholds for ``model``, keeping other models' entries."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stored = {}
    thresholds = asdict(chosen.thresholds)
    languages = chosen.thresholds.model_languages
    thresholds["model_languages"] = sorted(languages) if languages else None
    stored[model] = {**thresholds, **details}
    path.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n", encoding="utf-8")
