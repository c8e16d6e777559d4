"""The BM25 ranker over FAQ variants."""

from __future__ import annotations

import logging
import math

import pytest

from knowledge.lexical import LexicalIndex, terms
from knowledge.models import FaqEntry, FaqVariant
from knowledge.tuning import ANSWER_WEIGHT, K1, B


def faq() -> list[FaqEntry]:
    return [
        FaqEntry(
            "password",
            {
                "es": FaqVariant("es", "¿Cómo restablezco mi contraseña?", "Pulsa el enlace."),
                "en": FaqVariant("en", "How do I reset my password?", "Click the link."),
            },
        ),
        FaqEntry("shipping", {"es": FaqVariant("es", "¿Cuánto cuesta el envío?", "4,95 €.")}),
    ]


def test_terms_fold_case_and_accents_and_add_character_ngrams() -> None:
    found = terms("Contraseña")
    assert "contrasena" in found
    assert "#<con" in found and "#ena>" in found


def test_inflected_word_still_matches_through_ngrams() -> None:
    [best, *_] = LexicalIndex(faq()).search("olvidé las contraseñas", lang="es")
    assert best.entry_id == "password"
    assert 0.0 < best.coverage < 1.0


def test_search_within_a_language_ignores_other_languages() -> None:
    hits = LexicalIndex(faq()).search("reset my password", lang="es")
    assert all(hit.lang == "es" for hit in hits)
    assert hits == [] or hits[0].coverage < 0.2


def test_query_made_only_of_faq_words_is_fully_covered() -> None:
    [best, *_] = LexicalIndex(faq()).search("cuesta envío", lang="es")
    assert best.entry_id == "shipping"
    assert best.coverage == 1.0


def test_unknown_language_gives_no_hits() -> None:
    assert LexicalIndex(faq()).search("anything", lang="fi") == []


def test_coverage_by_an_extra_variant_is_what_the_index_with_it_would_give() -> None:
    """The calibration scores a stand-in entry's words without rebuilding the index."""
    extra = ["where is my parcel", "my package has not arrived yet"]
    with_it = LexicalIndex(
        [*faq(), FaqEntry("~probe", {"en": FaqVariant("en", extra[0], "", tuple(extra[1:]))})]
    )
    index = LexicalIndex(faq())
    for question in ("my parcel has not arrived", "password reset", "where is the package"):
        expected = with_it.coverages(question, "en").get("~probe", (0.0, "en"))[0]
        assert abs(index.coverage_by(question, "en", extra) - expected) < 1e-12, question
    assert index.coverage_by("my parcel has not arrived", "en", extra) > 0.5
    assert index.coverage_by("password reset", "en", extra) == 0.0


def weighted_bm25(entries: list[FaqEntry], query: str) -> dict[str, float]:
    """Textbook BM25 (K1, B, Lucene's idf) with an answer's terms counted ANSWER_WEIGHT."""
    counts = []
    for entry in entries:
        variant = entry.variants["en"]
        tf: dict[str, float] = {}
        for phrasing in variant.phrasings:
            for term in terms(phrasing):
                tf[term] = tf.get(term, 0.0) + 1.0
        for term in terms(variant.answer):
            tf[term] = tf.get(term, 0.0) + ANSWER_WEIGHT
        counts.append(tf)
    lengths = [sum(tf.values()) for tf in counts]
    average = sum(lengths) / len(lengths)
    scores = {}
    for entry, tf, length in zip(entries, counts, lengths, strict=True):
        score = 0.0
        for term in terms(query):
            holding = sum(term in other for other in counts)
            idf = math.log(1 + (len(counts) - holding + 0.5) / (holding + 0.5))
            if term in tf:
                score += (
                    idf * tf[term] * (K1 + 1) / (tf[term] + K1 * (1 - B + B * length / average))
                )
        scores[entry.id] = score
    return scores


def test_bm25_ranks_as_the_formula_with_the_answer_weighing_less() -> None:
    """bm25s counts whole tokens; the answer's weight is written as repeated phrasing terms
    (knowledge/lexical.py): the ranking must be the weighted formula's, score for score."""

    def entry(entry_id: str, question: str, answer: str, *alternatives: str) -> FaqEntry:
        return FaqEntry(entry_id, {"en": FaqVariant("en", question, answer, alternatives)})

    entries = [
        entry("refund", "when do I get my refund", "Refunds take 5 days after the return."),
        entry("return", "how do I return an item", "Print the return label; refund follows."),
        entry("label", "I lost my return label", "Ask for a new label.", "reprint label"),
        entry("card", "which cards do you take", "Visa, Mastercard; refund to the same card."),
    ]
    for query in ("refund for my return", "return label", "card refund", "when refund"):
        expected = weighted_bm25(entries, query)
        hits = LexicalIndex(entries).search(query, k=10)
        assert [hit.entry_id for hit in hits] == sorted(
            (entry_id for entry_id, score in expected.items() if score > 0),
            key=lambda entry_id: -expected[entry_id],
        ), query
        ratios = {round(hit.score / expected[hit.entry_id], 9) for hit in hits}
        assert len(ratios) == 1, (query, ratios)


def test_building_an_index_writes_nothing_to_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    """bm25s sets its own logger to DEBUG; a calibration builds many indexes."""
    with caplog.at_level(logging.DEBUG):
        LexicalIndex(faq()).search("reset my password")
    assert [record.getMessage() for record in caplog.records if record.name == "bm25s"] == []
