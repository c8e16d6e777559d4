"""The FAQ decides whether its phrasings are indexed blended (knowledge/passages.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from knowledge import calibration
from knowledge import index as index_module
from knowledge.base import KnowledgeBase
from knowledge.decision import entry_dense_scores
from knowledge.embedder import PACKAGED_MINILM, Embedder, blend
from knowledge.index import FaqIndex, indexed_texts, load_or_build
from knowledge.models import FaqEntry, FaqVariant, IndexedText
from knowledge.paraphrase import same_question_bar
from knowledge.passages import PassageChoice, choose_passages, held_out_top1
from knowledge.policy_store import calibration_key


def faq_entry(entry_id: str, *phrasings: str) -> FaqEntry:
    question, *alternatives = phrasings
    return FaqEntry(entry_id, {"en": FaqVariant("en", question, "An answer.", tuple(alternatives))})


def search_top1(questions: np.ndarray, phrasings: np.ndarray, owners: list[str]) -> float:
    """The held-out top-1 as the search computes it: every other phrasing ranked by cosine,
    entries scored by :func:`entry_dense_scores`."""
    asked = [row for row, owner in enumerate(owners) if owners.count(owner) > 1]
    right = 0
    for row in asked:
        cosines = phrasings @ questions[row]
        ranked = [
            (IndexedText(owners[other], "en", str(other)), float(cosines[other]))
            for other in np.argsort(-cosines, kind="stable").tolist()
            if other != row
        ]
        scores = entry_dense_scores(ranked)
        right += max(scores, key=lambda entry_id: scores[entry_id][0]) == owners[row]
    return right / len(asked)


@pytest.mark.parametrize("seed", range(5))
def test_held_out_top1_ranks_entries_as_the_search_does(seed: int) -> None:
    rng = np.random.default_rng(seed)
    owners = [f"e{rng.integers(12)}" for _ in range(90)]
    centres = rng.normal(size=(12, 16))
    phrasings = np.array([centres[int(owner[1:])] for owner in owners])
    phrasings += rng.normal(scale=1.2, size=phrasings.shape)
    phrasings /= np.linalg.norm(phrasings, axis=1, keepdims=True)
    questions = phrasings + rng.normal(scale=0.3, size=phrasings.shape)
    questions /= np.linalg.norm(questions, axis=1, keepdims=True)
    codes = np.unique(np.array(owners), return_inverse=True)[1]
    asked = [row for row, owner in enumerate(owners) if owners.count(owner) > 1]

    ours = held_out_top1(questions.astype(np.float32), phrasings.astype(np.float32), codes, asked)

    assert 0.2 < ours < 1.0  # neither trivial nor hopeless: a real ranking was compared
    assert ours == pytest.approx(search_top1(questions, phrasings, owners))


@pytest.mark.slow
def test_an_faq_without_alternatives_keeps_one_prefix_and_embeds_nothing_twice(
    embedder: Embedder,
) -> None:
    """Translations are not held out: the search scores them with a second model too."""
    translated = FaqEntry(
        "order",
        {
            "en": FaqVariant("en", "Where is my order?", "Tracking."),
            "nl": FaqVariant("nl", "Waar is mijn bestelling?", "Volgen."),
        },
    )
    bare = indexed_texts([translated, faq_entry("refund", "How do I get a refund?")])
    choice, judged = choose_passages(bare, embedder)
    assert choice == PassageChoice(False) and judged is None


@pytest.mark.slow
def test_the_choice_is_the_better_held_out_ranking(embedder: Embedder) -> None:
    texts = indexed_texts(
        [
            faq_entry("order", "Where is my order?", "my parcel has not arrived", "track package"),
            faq_entry("refund", "How do I get a refund?", "money back please", "return item"),
            faq_entry("password", "I forgot my password", "cannot log in", "reset login"),
        ]
    )
    choice, judged = choose_passages(texts, embedder)
    assert judged is not None and choice.asked == len(texts)
    assert choice.blended == (choice.top1_blended > choice.top1_single)  # type: ignore[operator]
    words = [text.text for text in texts]
    single, second = embedder.encode_both_passages(words)
    expected = blend(single, second) if choice.blended else single
    assert np.allclose(judged.chosen, expected, atol=1e-5)
    assert np.allclose(judged.questions, embedder.encode(words, role="query"), atol=1e-5)


@pytest.mark.slow
def test_models_without_a_second_prefix_never_blend() -> None:
    texts = indexed_texts([faq_entry("a", "Where is my order?", "track my parcel")])
    for embedder in (
        Embedder(PACKAGED_MINILM),
        Embedder("packaged:multilingual-e5-small", passage_prefix="passage: "),
    ):
        assert embedder.prefixes.blend is None
        assert choose_passages(texts, embedder) == (PassageChoice(False), None)


@pytest.mark.slow
def test_a_blended_index_is_stored_as_such_and_keeps_its_kind_when_updated(
    embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the FAQ chose is what a restart loads, what an in-place update embeds new
    phrasings as, and what the calibration is keyed on."""
    before = [faq_entry("a", "How do I reset my password?"), faq_entry("b", "Where is my order?")]
    single, _ = load_or_build(before, embedder, tmp_path / "single", progress=False)
    monkeypatch.setattr(
        index_module,
        "choose_passages",
        lambda texts, embedder, progress: (PassageChoice(True, 2, 0.5, 1.0), None),
    )
    built, _ = load_or_build(before, embedder, tmp_path / "blended", progress=False)
    monkeypatch.undo()

    words = [text.text for text in built.texts]
    assert built.blended and not single.blended
    assert np.allclose(built.vectors(), blend(*embedder.encode_both_passages(words)), atol=1e-5)
    assert np.allclose(built.question_vectors(embedder), single.vectors(), atol=1e-5)
    assert calibration_key(built) != calibration_key(single)
    stored = json.loads((tmp_path / "blended" / "faq.json").read_text(encoding="utf-8"))
    assert stored["passages"] == {
        "blended": True,
        "asked": 2,
        "top1_single": 0.5,
        "top1_blended": 1.0,
        "same_question_bar": None,
    }
    again, rebuilt = load_or_build(before, embedder, tmp_path / "blended", progress=False)
    assert not rebuilt and again.passages == built.passages

    after = [*before, faq_entry("c", "Do you sell gift cards?")]
    updated, _ = load_or_build(after, embedder, tmp_path / "updated", progress=False, reuse=built)
    assert updated.blended
    gift = blend(*embedder.encode_both_passages(["Do you sell gift cards?"]))[0]
    row = [text.entry_id for text in updated.texts].index("c")
    assert np.allclose(updated.vectors()[row], gift, atol=1e-5)


@pytest.mark.slow
def test_a_blended_index_groups_questions_by_the_bar_of_its_phrasings_as_questions(
    sample_kb: KnowledgeBase, embedder: Embedder
) -> None:
    """Unanswered questions are compared as questions; a blended index's vectors are not
    questions', so its bar is learnt from the phrasings embedded as questions, at build."""
    index = sample_kb.index
    assert index.blended  # the sample FAQ's alternatives rank better blended (0.970 / 0.964)
    as_questions = same_question_bar(index.question_vectors(embedder), index.texts)
    assert as_questions is not None
    assert sample_kb.same_question_bar() == as_questions
    assert same_question_bar(index.vectors(), index.texts) != as_questions


@pytest.mark.slow
def test_a_fresh_build_does_not_take_vectors_of_the_other_kind_from_the_index_it_replaces(
    embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An FAQ changed by more than half is built afresh and chooses again; phrasings the old
    index holds keep their vectors only when they were embedded the way now chosen."""
    before = [faq_entry("a", "How do I reset my password?"), faq_entry("b", "Where is my order?")]
    single, _ = load_or_build(before, embedder, tmp_path / "single", progress=False)
    after = [before[0], *(faq_entry(name, f"Question {name}?") for name in "cdef")]
    monkeypatch.setattr(
        index_module,
        "choose_passages",
        lambda texts, embedder, progress: (PassageChoice(True, 1, 0.5, 1.0), None),
    )
    rebuilt, _ = load_or_build(after, embedder, tmp_path / "new", progress=False, reuse=single)

    assert rebuilt.blended and rebuilt.ids.tolist() == list(range(len(after)))  # not in place
    words = [text.text for text in rebuilt.texts]
    assert np.allclose(rebuilt.vectors(), blend(*embedder.encode_both_passages(words)), atol=1e-5)


@pytest.mark.slow
def test_probe_phrasings_are_embedded_as_the_index_embeds_its_phrasings(
    embedder: Embedder,
) -> None:
    """Calibration scores a stand-in entry (a probe) as the FAQ's entries are scored."""
    words = ["Where is my order?", "Track my parcel"]
    texts = [(word, "en") for word in words]
    queries = embedder.encode(words, role="query")
    rows = [IndexedText("order", "en", word) for word in words]
    single = FaqIndex(index_module.new_index(embedder.dimension, queries), rows, "single")
    assert calibration._as_indexed(texts, queries, single, embedder) is queries
    phrasings = embedder.encode(words, role="passage", blended=True)
    blended = FaqIndex(
        index_module.new_index(embedder.dimension, phrasings),
        rows,
        "blended",
        passages=PassageChoice(True),
    )
    assert np.allclose(calibration._as_indexed(texts, queries, blended, embedder), phrasings)
    assert not np.allclose(phrasings, queries, atol=1e-3)
