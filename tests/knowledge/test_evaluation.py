"""`helpdesk kb eval`: the metrics, and the command's exact interface."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.metrics import matthews_corrcoef

from knowledge.decision import Answer, Choice
from knowledge.evaluation import (
    LabelledQuestion,
    Outcome,
    QuestionSetError,
    load_questions,
    mcc,
    summarise,
)
from knowledge.language import DetectedLanguage
from knowledge.loader import dump_csv, load_faq
from knowledge.models import SearchHit
from tests.conftest import PROJECT_ROOT, run_cli


def outcome(lang: str, expected: str | None, ranked: list[str], answered: bool) -> Outcome:
    hits = tuple(
        SearchHit(entry_id, 0.9 - i / 10, 0.9 - i / 10, 0.0, lang, "q")
        for i, entry_id in enumerate(ranked)
    )
    entry = ranked[0] if answered else None
    answer = Answer("text" if answered else None, entry, lang, DetectedLanguage(lang, 1.0), hits)
    return Outcome(LabelledQuestion("q", lang, expected), answer, latency_ms=10.0)


def test_metrics_count_right_wrong_and_declined_answers() -> None:
    report = summarise(
        [
            outcome("en", "a", ["a", "b"], answered=True),  # right
            outcome("en", "a", ["b", "a"], answered=True),  # wrong, expected at rank 2
            outcome("nl", "a", ["c", "d", "b"], answered=False),  # declined, not in top 3
            outcome("nl", None, ["a"], answered=True),  # out of scope but answered: wrong
            outcome("nl", None, ["a"], answered=False),  # out of scope, declined: right
        ]
    )
    assert report["n_in_scope"] == 3 and report["n_out_of_scope"] == 2
    assert report["top1"] == pytest.approx(1 / 3, abs=1e-4)
    assert report["top3"] == pytest.approx(2 / 3, abs=1e-4)
    assert report["mrr"] == pytest.approx((1 + 0.5) / 3, abs=1e-4)
    assert report["answer_accuracy"] == pytest.approx(1 / 3, abs=1e-4)
    assert report["wrong_answer_rate"] == pytest.approx(2 / 5)
    assert report["oos_recall"] == pytest.approx(0.5)
    assert report["per_language"]["en"]["n"] == 2
    assert report["per_language"]["nl"]["answer_accuracy"] == 0.0
    assert report["latency_ms"] == {"p50": 10.0, "p95": 10.0}


def test_a_clarifying_question_off_topic_is_a_wrong_move_and_mcc_counts_it() -> None:
    hits = (SearchHit("a", 0.9, 0.9, 0.0, "en", "q"), SearchHit("b", 0.89, 0.89, 0.0, "en", "q"))
    asked_between = Answer(
        None, None, "en", DetectedLanguage("en", 1.0), hits, (Choice("a", "A?"), Choice("b", "B?"))
    )
    off_topic = Outcome(LabelledQuestion("weather?", "en", None), asked_between, 10.0)
    in_scope = Outcome(LabelledQuestion("about b", "en", "b"), asked_between, 10.0)
    assert off_topic.wrong_move and not off_topic.declined and off_topic.label == "a"
    assert not in_scope.wrong_move and in_scope.label == "b"  # the customer can pick it
    report = summarise([off_topic, in_scope, outcome("en", None, ["a"], answered=False)])
    assert report["oos_recall"] == pytest.approx(0.5)
    assert report["wrong_answer_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert report["clarify_rate"] == pytest.approx(2 / 3, abs=1e-4)
    gold = ["NO_NODES_DETECTED", "b", "NO_NODES_DETECTED"]
    moves = ["a", "b", "NO_NODES_DETECTED"]
    assert mcc([off_topic, in_scope, outcome("en", None, ["a"], False)]) == pytest.approx(
        matthews_corrcoef(gold, moves)
    )
    assert report["mcc"] == pytest.approx(matthews_corrcoef(gold, moves), abs=1e-4)


def test_mcc_with_one_guess_labels_a_clarifying_question_by_its_first_choice() -> None:
    """HINT3's peers answer with one intent: the figure set beside theirs gives no second guess."""
    hits = (SearchHit("a", 0.9, 0.9, 0.0, "en", "q"), SearchHit("b", 0.89, 0.89, 0.0, "en", "q"))
    asked_between = Answer(
        None, None, "en", DetectedLanguage("en", 1.0), hits, (Choice("a", "A?"), Choice("b", "B?"))
    )
    about_b = Outcome(LabelledQuestion("about b", "en", "b"), asked_between, 10.0)
    outcomes = [
        about_b,
        outcome("en", "a", ["a"], answered=True),
        outcome("en", None, ["a"], answered=False),
    ]
    assert about_b.label == "b" and about_b.first_choice_label == "a"
    gold = ["b", "a", "NO_NODES_DETECTED"]
    report = summarise(outcomes)
    assert report["mcc"] == pytest.approx(matthews_corrcoef(gold, ["b", "a", "NO_NODES_DETECTED"]))
    assert report["mcc_first_choice"] == pytest.approx(
        matthews_corrcoef(gold, ["a", "a", "NO_NODES_DETECTED"]), abs=1e-4
    )
    assert report["mcc_first_choice"] < report["mcc"]


def test_question_with_unknown_expected_id_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"text": "hi", "lang": "en", "expected_id": "a"}\n'
        '{"text": "yo", "lang": "en", "expected_id": "zzz"}\n',
        encoding="utf-8",
    )
    with pytest.raises(QuestionSetError, match="line 2: expected_id 'zzz' is not in the FAQ"):
        load_questions(path, {"a"})


def test_malformed_question_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"text": "hi", "lang": "en"}\n', encoding="utf-8")
    with pytest.raises(QuestionSetError, match="line 1"):
        load_questions(path, {"a"})


def test_a_question_tagged_with_a_region_counts_in_its_language(tmp_path: Path) -> None:
    """Per-language figures and labelled calibration key on the FAQ's languages ("en")."""
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"text": "hi", "lang": "en-US", "expected_id": null}\n'
        '{"text": "olá", "lang": "english", "expected_id": null}\n',
        encoding="utf-8",
    )
    with pytest.raises(QuestionSetError, match="line 2: not a language code: 'english'"):
        load_questions(path, {"a"})
    path.write_text('{"text": "hi", "lang": "en-US", "expected_id": "a"}\n', encoding="utf-8")
    assert [question.lang for question in load_questions(path, {"a"})] == ["en"]


@pytest.mark.slow
def test_eval_command_prints_one_json_object_with_the_agreed_keys(tmp_path: Path) -> None:
    """Without --faq it asks the configured FAQ, here the sample's directory of YAML files."""
    details = tmp_path / "details.json"
    helpdesk = Path(sys.executable).parent / "helpdesk"
    result = subprocess.run(
        [
            str(helpdesk),
            "kb",
            "eval",
            str(PROJECT_ROOT / "knowledge/eval/questions.jsonl"),
            str(PROJECT_ROOT / "knowledge/eval/questions_test.jsonl"),
            "--json",
            "--details",
            str(details),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        env={**os.environ, "HELPDESK_FAQ_PATH": str(PROJECT_ROOT / "knowledge" / "faq")},
    )
    report = json.loads(result.stdout)
    for key in (
        "n_in_scope", "n_out_of_scope", "top1", "top3", "mrr", "answer_accuracy",
        "wrong_answer_rate", "oos_recall", "clarify_rate", "mcc", "mcc_first_choice",
        "per_language", "latency_ms",
    ):  # fmt: skip
        assert key in report, key
    assert set(report["per_language"]) == {"en", "nl", "pt", "el", "ru", "de", "fr", "es"}
    assert report["n_in_scope"] + report["n_out_of_scope"] == 88 + 82  # both sets, pooled
    assert min(m["top1"] for m in report["per_language"].values()) >= 0.8  # a multilingual model
    rows = json.loads(details.read_text(encoding="utf-8"))
    assert len(rows) == 88 + 82
    assert {"text", "expected_id", "move", "entry_id", "choices", "right", "hits"} <= set(rows[0])
    assert sum(row["right"] for row in rows) >= 0.8 * len(rows)


def test_eval_command_with_a_broken_csv_exits_with_a_message_not_a_traceback(
    tmp_path: Path,
) -> None:
    faq = tmp_path / "faq.csv"
    faq.write_text("id,lang,question\nx,en,Why?\n", encoding="utf-8")
    helpdesk = Path(sys.executable).parent / "helpdesk"
    result = subprocess.run(
        [str(helpdesk), "kb", "eval", "--faq", str(faq), str(faq), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "missing column(s): answer" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_calibrate_command_refines_the_stored_calibration_with_labelled_questions(
    tmp_path: Path,
) -> None:
    helpdesk = Path(sys.executable).parent / "helpdesk"
    env = {**os.environ, "HELPDESK_DATA_DIR": str(tmp_path)}
    questions = PROJECT_ROOT / "knowledge/eval/questions.jsonl"
    result = subprocess.run(
        [str(helpdesk), "kb", "calibrate", str(questions)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["figures"]["labelled_questions"] is True
    assert printed["figures"]["labelled"]["n"] == 88
    stored = json.loads((tmp_path / "index" / "calibration.json").read_text(encoding="utf-8"))
    assert stored["policy"] == printed["policy"]
    # The bot's next start keeps the refined calibration: same FAQ, same model.
    build = subprocess.run(
        [str(helpdesk), "kb", "build"], capture_output=True, text=True, env=env, timeout=300
    )
    assert build.returncode == 0, build.stderr
    again = json.loads((tmp_path / "index" / "calibration.json").read_text(encoding="utf-8"))
    assert again["figures"]["labelled_questions"] is True
    # The FAQ changes (an entry goes): its new calibration is refined by the same questions,
    # less those about the entry gone.
    asked = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines()]
    gone = asked[0]["expected_id"]
    edited = tmp_path / "edited.csv"
    dump_csv([e for e in load_faq(PROJECT_ROOT / "knowledge" / "faq") if e.id != gone], edited)
    env["HELPDESK_FAQ_PATH"] = str(edited)
    build = subprocess.run(
        [str(helpdesk), "kb", "build"], capture_output=True, text=True, env=env, timeout=300
    )
    assert build.returncode == 0, build.stderr
    redone = json.loads((tmp_path / "index" / "calibration.json").read_text(encoding="utf-8"))
    assert redone["key"] != stored["key"]
    left = sum(question["expected_id"] != gone for question in asked)
    assert redone["figures"]["labelled"]["n"] == left < 88
    forget = subprocess.run(
        [str(helpdesk), "kb", "calibrate", "--without-labelled"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert forget.returncode == 0, forget.stderr
    assert json.loads(forget.stdout)["figures"]["labelled_questions"] is False
    assert not (tmp_path / "index" / "labelled_questions.jsonl").exists()


def test_build_command_tells_the_operator_which_languages_lack_alternatives(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faq = tmp_path / "faq.csv"
    topics = ["shipping cost", "returns", "payment methods", "opening hours", "password", "gift"]
    faq.write_text(
        "id,lang,question,answer\n"
        + "".join(
            f"e{i},en,What about {topic}?,See our {topic} page.\n" for i, topic in enumerate(topics)
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("HELPDESK_DATA_DIR", str(tmp_path / "data"))
    for path, note in ((faq, True), (PROJECT_ROOT / "knowledge" / "faq", False)):
        monkeypatch.setenv("HELPDESK_FAQ_PATH", str(path))
        assert run_cli("kb", "build") == 0
        printed = capsys.readouterr()
        assert ("one question only in en" in printed.err) is note, printed.err
        # How the phrasings were embedded, and on what evidence when the FAQ had any.
        evidence = "held-out phrasings put their entry first"
        assert "FAQ phrasings embedded" in printed.out
        assert (evidence in printed.out) is not note, printed.out
