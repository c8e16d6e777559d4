"""The sample FAQ, its CSV export and the labelled question set stay consistent."""

from __future__ import annotations

import json

from knowledge.loader import load_csv, load_faq
from tests.conftest import PROJECT_ROOT

EVAL_DIR = PROJECT_ROOT / "knowledge" / "eval"


def test_csv_export_has_the_same_entries_as_the_yaml_faq() -> None:
    from_yaml = {entry.id: entry for entry in load_faq(PROJECT_ROOT / "knowledge" / "faq")}
    from_csv = {entry.id: entry for entry in load_csv(EVAL_DIR / "faq.csv")}
    assert from_csv.keys() == from_yaml.keys()
    for entry_id, entry in from_yaml.items():
        assert dict(from_csv[entry_id].variants) == dict(entry.variants), entry_id


def test_question_set_covers_eight_languages_and_a_fifth_out_of_scope() -> None:
    lines = (EVAL_DIR / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line) for line in lines if line.strip()]
    assert {q["lang"] for q in questions} == {"en", "nl", "pt", "el", "ru", "de", "fr", "es"}
    out_of_scope = sum(q["expected_id"] is None for q in questions)
    assert out_of_scope / len(questions) >= 0.2
    assert len(load_faq(PROJECT_ROOT / "knowledge" / "faq")) >= 25
