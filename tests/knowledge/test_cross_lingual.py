"""The second model for pairs of two languages: which pairs it scores, on what scale, and
that a knowledge base built with it uses it and keeps its scale with the calibration."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.base import KnowledgeBase
from knowledge.cross_lingual import PACKAGED_USE, ScaleMap, cross_pairs, mixed
from knowledge.embedder import PACKAGED_E5, Embedder, Vectors
from knowledge.index import load_or_build
from knowledge.models import FaqEntry, FaqVariant
from tests.conftest import english_sample_faq


def unit_rows(rows: int, dims: int, seed: int, *, shift: float = 0.0) -> Vectors:
    vectors = np.random.default_rng(seed).normal(size=(rows, dims)) + shift
    unit: Vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    return unit


def test_the_scale_map_gives_the_second_cosines_the_first_ones_mean_and_spread() -> None:
    first = unit_rows(40, 8, seed=1, shift=2.0)  # compressed cosines, as e5's
    second = unit_rows(40, 16, seed=2)
    scale = ScaleMap.between(first, second)
    pairs = np.triu_indices(40, 1)
    mapped = scale.slope * (second @ second.T)[pairs] + scale.intercept
    original = (first @ first.T)[pairs]
    assert np.isclose(mapped.mean(), original.mean(), atol=1e-4)
    assert np.isclose(mapped.std(), original.std(), atol=1e-4)


def test_only_pairs_of_two_languages_the_second_model_knows_are_mixed() -> None:
    cross = cross_pairs(["de", "en", "el"], ["en", "de", "el", "en"])
    assert cross.tolist() == [
        [True, False, False, True],  # German against English only
        [False, True, False, False],  # English against German only
        [False, False, False, False],  # Greek: the second model does not know it
    ]
    first, second = np.full((3, 4), 0.8), np.full((3, 4), 0.4)
    scores = mixed(first, second, cross, ScaleMap(slope=0.5, intercept=0.6))
    assert np.allclose(scores[cross], (0.8 + 0.5 * 0.4 + 0.6) / 2)
    assert np.allclose(scores[~cross], 0.8)


@pytest.mark.slow
def test_a_knowledge_base_scores_other_languages_with_both_models_and_stores_the_scale(
    embedder: Embedder, tmp_path: Path
) -> None:
    english = english_sample_faq()
    both = Embedder(PACKAGED_E5, cross_lingual=PACKAGED_USE)
    with_second = KnowledgeBase(english, both, tmp_path / "both")
    alone = KnowledgeBase(english, embedder, tmp_path / "alone")
    scale = with_second.policy.cross_lingual_scale
    assert scale is not None and alone.policy.cross_lingual_scale is None

    def dense(kb: KnowledgeBase, text: str, lang: str) -> dict[str, float]:
        return {hit.entry_id: hit.dense for hit in kb.search(text, lang=lang, k=30)}

    english_question = "I forgot my password"
    assert dense(with_second, english_question, "en") == dense(alone, english_question, "en")
    german_question = "ich habe mein Passwort vergessen"
    assert dense(with_second, german_question, "de") != dense(alone, german_question, "de")
    assert with_second.answer(german_question).entry_id == "reset-password"
    reloaded = KnowledgeBase(english, both, tmp_path / "both")
    assert reloaded.policy.cross_lingual_scale == scale  # from calibration.json


@pytest.mark.slow
def test_the_second_models_phrasing_vectors_are_stored_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored beside the index: a restart embeds no phrasing again, and an entry published
    into the live FAQ embeds that entry's phrasings only (before, every start and every
    published entry embedded all of them: minutes for a 100k-phrasing FAQ)."""
    both = Embedder(PACKAGED_E5, cross_lingual=PACKAGED_USE)
    assert both.cross_lingual is not None
    questions = {
        "a": "How do I reset my password?",
        "b": "Where is my order?",
        "c": "Do you sell gift cards?",
    }
    faq = {
        key: FaqEntry(key, {"en": FaqVariant("en", text, "An answer.")})
        for key, text in questions.items()
    }
    before = [faq["a"], faq["b"]]
    first, _ = load_or_build(before, both, tmp_path / "live", progress=False)
    made = first.second_vectors(both)
    embedded: list[str] = []
    encode = both.cross_lingual.encode

    def counting(texts: list[str]) -> Vectors:
        embedded.extend(texts)
        return encode(texts)

    monkeypatch.setattr(both.cross_lingual, "encode", counting)
    restarted, rebuilt = load_or_build(before, both, tmp_path / "live", progress=False)
    assert not rebuilt and embedded == []
    assert np.array_equal(restarted.second_vectors(both), made)
    after = [faq["a"], faq["c"]]  # b gone, c new
    updated, _ = load_or_build(after, both, tmp_path / "next", progress=False, reuse=restarted)
    assert embedded == ["Do you sell gift cards?"]
    monkeypatch.setattr(both.cross_lingual, "encode", encode)
    fresh, _ = load_or_build(after, both, tmp_path / "fresh", progress=False)
    assert np.allclose(updated.second_vectors(both), fresh.second_vectors(both), atol=1e-5)
