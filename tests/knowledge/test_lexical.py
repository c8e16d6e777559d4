"""The BM25 ranker over FAQ variants."""

from __future__ import annotations

from knowledge.lexical import LexicalIndex, terms
from knowledge.models import FaqEntry, FaqVariant


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
