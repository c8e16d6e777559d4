"""Choosing thresholds from data, and storing them per model."""

from __future__ import annotations

from pathlib import Path

from knowledge.base import Thresholds
from knowledge.calibration import (
    Case,
    TradeOff,
    choose,
    load_thresholds,
    save_thresholds,
    score,
    sweep,
)
from knowledge.models import SearchHit


def case(expected: str | None, top: str, dense: float, lexical: float, lang: str = "en") -> Case:
    return Case(expected, (SearchHit(top, 0.03, dense, lexical, lang, "q"),), lang)


CASES = [
    case("a", "a", dense=0.90, lexical=0.1),  # easy, dense
    case("b", "b", dense=0.30, lexical=0.8, lang="el"),  # lexical carries it
    case("c", "x", dense=0.62, lexical=0.1),  # wrong entry with a middling cosine
    case(None, "a", dense=0.50, lexical=0.2),  # out of scope
]


def test_score_counts_right_wrong_and_declined() -> None:
    result = score(
        CASES,
        Thresholds(dense=0.6, dense_other=1.0, lexical=0.5, model_languages=frozenset({"en"})),
    )
    assert result.answer_accuracy == 2 / 3
    assert result.wrong_answer_rate == 1 / 4
    assert result.oos_recall == 1.0


def test_choice_respects_the_wrong_answer_cap() -> None:
    chosen = choose(sweep(CASES, frozenset({"en"})), max_wrong=0.0, min_oos_recall=1.0)
    assert chosen.wrong_answer_rate == 0.0
    assert chosen.answer_accuracy == 2 / 3
    assert 0.62 < chosen.thresholds.dense <= 0.90


def test_between_equally_accurate_choices_the_one_declining_more_off_topic_wins() -> None:
    # Every dense threshold in (0.62, 0.90] answers "a" and "b" right and nothing wrong;
    # only those above 0.70 also decline the off-topic question with cosine 0.70.
    cases = [*CASES[:2], case(None, "a", dense=0.70, lexical=0.1)]
    chosen = choose(sweep(cases, frozenset({"en"})), max_wrong=0.0, min_oos_recall=0.0)
    assert chosen.oos_recall == 1.0
    assert chosen.answer_accuracy == 1.0


def test_thresholds_round_trip_per_model(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    chosen = TradeOff(Thresholds(0.55, 0.95, 0.35, frozenset({"en"}), 0.1), 0.6, 0.03, 1.0)
    save_thresholds("model-a", chosen, {"note": "x"}, path)
    save_thresholds("model-b", TradeOff(Thresholds(0.7, 0.7, 0.4), 0.9, 0.01, 0.9), {}, path)
    assert load_thresholds("model-a", path) == chosen.thresholds
    assert load_thresholds("model-b", path) == Thresholds(0.7, 0.7, 0.4, None)
    assert load_thresholds("model-c", path) is None


def test_outside_the_models_languages_the_cosine_must_stand_out() -> None:
    thresholds = Thresholds(
        dense=0.6, dense_other=0.7, lexical=0.9, model_languages=frozenset({"en"}), margin_other=0.1
    )
    top = SearchHit("a", 0.03, 0.80, 0.0, "de", "q")
    close = SearchHit("b", 0.02, 0.75, 0.0, "de", "q")
    far = SearchHit("b", 0.02, 0.60, 0.0, "de", "q")
    assert not thresholds.accepts(top, "de", [close])
    assert thresholds.accepts(top, "de", [far])
    assert thresholds.accepts(top, "en", [close])  # in the model's language the cosine suffices


def test_calibration_scores_a_clarifying_question_as_the_bot_asks_it() -> None:
    # Two acceptable entries almost tied: the bot asks which one was meant, so the question
    # is neither answered right nor wrong, whatever the order of the two.
    tied = Case(
        "b",
        (
            SearchHit("a", 0.03, 0.90, 0.60, "en", "q"),
            SearchHit("b", 0.02, 0.89, 0.60, "en", "q"),
        ),
        "en",
    )
    thresholds = Thresholds(dense=0.6, lexical=0.5)
    assert thresholds.decide(tied.hits, "en").choices == ("a", "b")
    result = score([tied], thresholds)
    assert result.answer_accuracy == 0.0
    assert result.wrong_answer_rate == 0.0


def test_among_equally_good_thresholds_the_middle_of_the_plateau_wins() -> None:
    # Every dense threshold in (0.50, 0.90] answers both right and the off-topic question
    # (0.50) never: the edges would sit a hair from a labelled score, the middle does not.
    cases = [
        case("a", "a", dense=0.90, lexical=0.0),
        case("b", "b", dense=0.95, lexical=0.0),
        case(None, "a", dense=0.50, lexical=0.0),
    ]
    chosen = choose(sweep(cases, None), max_wrong=0.0, min_oos_recall=1.0)
    assert chosen.answer_accuracy == 1.0 and chosen.oos_recall == 1.0
    assert 0.65 <= chosen.thresholds.dense <= 0.75
