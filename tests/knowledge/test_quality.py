"""Answer quality on the shipped sets, with the FAQ as shipped and as a plain FAQ.

The figures that count are measured on public data (scripts/bench_quality.py, README); these
floors catch a change that breaks answering, and the plain-FAQ ablation checks that answers do
not hang on the alternatives written by the same hand as the questions.
"""

from __future__ import annotations

import pytest

from knowledge.embedder import Embedder
from knowledge.evaluation import ask_all, load_questions, summarise, without_alternatives
from knowledge.loader import load_csv
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow

EVAL_DIR = PROJECT_ROOT / "knowledge" / "eval"


@pytest.mark.parametrize(
    ("plain", "min_accuracy", "max_wrong"),
    [(False, 0.92, 0.03), (True, 0.87, 0.05)],
    ids=["as-shipped", "plain-faq"],
)
def test_pooled_question_sets_are_answered(
    embedder: Embedder, plain: bool, min_accuracy: float, max_wrong: float
) -> None:
    entries = load_csv(EVAL_DIR / "faq.csv")
    if plain:
        entries = without_alternatives(entries)
        assert all(
            not v.alternatives for e in entries for lang, v in e.variants.items() if lang != "en"
        )
    known = {entry.id for entry in entries}
    questions = [
        q for path in sorted(EVAL_DIR.glob("questions*.jsonl")) for q in load_questions(path, known)
    ]
    report = summarise(ask_all(entries, questions, embedder))
    assert report["n"] == 252
    assert report["answer_accuracy"] >= min_accuracy, report
    assert report["wrong_answer_rate"] <= max_wrong, report
    assert report["oos_recall"] >= 0.8, report
