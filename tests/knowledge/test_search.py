"""Search and the answer decision on the shipped sample FAQ."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpdesk.settings import PACKAGED_MODEL
from knowledge import KnowledgeBase
from knowledge.base import Thresholds, reciprocal_rank_fusion
from knowledge.calibration import resolve_thresholds
from knowledge.embedder import Embedder
from knowledge.loader import load_faq
from knowledge.models import FaqEntry, FaqVariant
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def kb(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    base = KnowledgeBase(
        load_faq(PROJECT_ROOT / "knowledge" / "faq"),
        embedder,
        tmp_path_factory.mktemp("index"),
        thresholds=resolve_thresholds(PACKAGED_MODEL),
    )
    base.warm_up(progress=False)
    return base


def test_hits_are_ranked_best_first_one_per_entry(kb: KnowledgeBase) -> None:
    hits = kb.search("how much does delivery cost", k=5)
    assert hits[0].entry_id == "shipping-cost"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len({h.entry_id for h in hits}) == len(hits) == 5


def test_dutch_question_is_answered_with_the_dutch_variant(kb: KnowledgeBase) -> None:
    answer = kb.answer("ik ben mijn wachtwoord vergeten")
    assert answer.entry_id == "reset-password"
    assert answer.language.lang == "nl"
    assert answer.text is not None and answer.text.startswith("Klik op de inlogpagina")


def test_entry_without_the_customers_language_falls_back_to_default(kb: KnowledgeBase) -> None:
    # A model that knows Greek, and a Greek conversation asking about "gift-card",
    # which has no Greek variant.
    multilingual = KnowledgeBase(
        list(kb.entries.values()),
        kb.embedder,
        kb.index_dir,
        thresholds=Thresholds(dense=0.6, model_languages=None),
    )
    answer = multilingual.answer("How do I use a gift card?", lang="el")
    assert answer.entry_id == "gift-card"
    assert answer.answer_lang == "en"
    assert not answer.in_customer_language


def test_unrelated_question_is_not_answered(kb: KnowledgeBase) -> None:
    answer = kb.answer("what is the capital of Mongolia")
    assert not answer.answered
    assert answer.text is None
    assert answer.hits, "what was tried is kept for an escalation"


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "12345", "x" * 200_000])
def test_odd_input_never_raises(kb: KnowledgeBase, text: str) -> None:
    answer = kb.answer(text)
    assert answer.language.lang in kb.languages


def test_import_loads_no_model(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys, knowledge, actions.faq, actions.runtime;"
        "print('sentence_transformers' in sys.modules, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_greek_question_with_the_faqs_words_is_found_lexically(kb: KnowledgeBase) -> None:
    # The packaged model is English-only; BM25 over the Greek variants carries this one.
    answer = kb.answer("μου χρέωσαν την κάρτα δύο φορές")
    assert answer.language.lang == "el"
    assert answer.entry_id == "charged-twice"
    assert answer.hits[0].lexical > answer.hits[0].dense


def test_two_equally_good_entries_get_a_clarifying_question(
    embedder: Embedder, tmp_path: Path
) -> None:
    def entry(entry_id: str, question: str) -> FaqEntry:
        return FaqEntry(entry_id, {"en": FaqVariant("en", question, f"Answer {entry_id}.")})

    twins = KnowledgeBase(
        [
            entry("card-lost", "What do I do if my card is lost?"),
            entry("card-stolen", "What do I do if my card is stolen?"),
            entry("opening", "When are you open?"),
        ],
        embedder,
        tmp_path,
        thresholds=Thresholds(dense=0.5, lexical=0.5),
    )
    answer = twins.answer("my card is lost or stolen", lang="en")
    assert answer.clarifying and not answer.answered
    assert {choice.entry_id for choice in answer.choices} == {"card-lost", "card-stolen"}
    assert answer.choices[0].title.startswith("What do I do if my card is")


def test_weighted_fusion_lets_the_heavier_ranking_decide() -> None:
    dense, lexical = ["a", "b", "c"], ["b", "c", "a"]
    assert reciprocal_rank_fusion([dense, lexical])[0][0] == "b"  # first and second
    assert reciprocal_rank_fusion([dense, lexical], [8.0, 1.0])[0][0] == "a"
    assert reciprocal_rank_fusion([dense, lexical], [1.0, 8.0])[0][0] == "b"
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([dense, lexical], [1.0])


def test_outside_the_models_languages_the_faqs_own_words_outrank_the_cosine(
    kb: KnowledgeBase,
) -> None:
    # The English-only model puts the Dutch "order" entries above "download-invoice" by cosine;
    # the words "factuur" and "bestelling" decide once the lexical ranking weighs more.
    question = "waar vind ik de factuur van mijn bestelling"
    assert not kb.thresholds.model_knows("nl")
    by_cosine = max(kb.search(question, lang="nl", k=10), key=lambda hit: hit.dense)
    assert by_cosine.entry_id != "download-invoice"
    assert kb.search(question, lang="nl")[0].entry_id == "download-invoice"
