"""The sample FAQ, its CSV export and the labelled question set stay consistent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.loader import dump_csv, load_csv, load_faq
from tests.conftest import PROJECT_ROOT

EVAL_DIR = PROJECT_ROOT / "knowledge" / "eval"


def test_csv_export_is_generated_from_the_yaml_faq(tmp_path: Path) -> None:
    """knowledge/eval/faq.csv is `helpdesk kb export` output, never edited by hand."""
    dump_csv(load_faq(PROJECT_ROOT / "knowledge" / "faq"), tmp_path / "faq.csv")
    assert (tmp_path / "faq.csv").read_bytes() == (EVAL_DIR / "faq.csv").read_bytes(), (
        "run: helpdesk kb export --out knowledge/eval/faq.csv"
    )


def test_csv_export_has_the_same_entries_as_the_yaml_faq() -> None:
    from_yaml = {entry.id: entry for entry in load_faq(PROJECT_ROOT / "knowledge" / "faq")}
    from_csv = {entry.id: entry for entry in load_csv(EVAL_DIR / "faq.csv")}
    assert from_csv.keys() == from_yaml.keys()
    for entry_id, entry in from_yaml.items():
        assert dict(from_csv[entry_id].variants) == dict(entry.variants), entry_id


QUESTION_SETS = ("questions.jsonl", "questions_holdout.jsonl", "questions_test.jsonl")


def questions_in(name: str) -> list[dict[str, str | None]]:
    lines = (EVAL_DIR / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize("name", QUESTION_SETS)
def test_question_set_covers_eight_languages_and_a_fifth_out_of_scope(name: str) -> None:
    questions = questions_in(name)
    assert {q["lang"] for q in questions} == {"en", "nl", "pt", "el", "ru", "de", "fr", "es"}
    out_of_scope = sum(q["expected_id"] is None for q in questions)
    assert out_of_scope / len(questions) >= 0.2
    assert len(load_faq(PROJECT_ROOT / "knowledge" / "faq")) >= 25


def test_no_question_is_in_two_sets() -> None:
    """A held-out set that repeats a calibration question is not held out."""
    seen: dict[str, str] = {}
    for name in QUESTION_SETS:
        for question in questions_in(name):
            text = str(question["text"]).casefold()
            assert text not in seen, f"{question['text']!r} is in {seen[text]} and {name}"
            seen[text] = name
