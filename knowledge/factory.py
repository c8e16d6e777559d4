"""Building the knowledge base and its embedding model from the settings.

Every process that answers or evaluates (the action server, the CLI, the benchmarks) builds
them here, so they all read the same settings the same way.
"""

from __future__ import annotations

from core.settings import Settings
from knowledge.base import KnowledgeBase
from knowledge.embedder import Embedder
from knowledge.loader import load_faq
from knowledge.policy_store import LABELLED_FILE


def embedder_from(settings: Settings) -> Embedder:
    """The configured embedding model (loaded on first use)."""
    return Embedder(
        settings.embedding_model,
        threads=settings.embedding_threads,
        query_prefix=settings.embedding_query_prefix,
        passage_prefix=settings.embedding_passage_prefix,
        cross_lingual=settings.cross_lingual_model or None,
    )


def knowledge_base_from(settings: Settings) -> KnowledgeBase:
    """The configured FAQ as a knowledge base (parsed now; model and index on warm-up)."""
    return KnowledgeBase(
        load_faq(settings.faq_path),
        embedder_from(settings),
        settings.index_dir,
        default_language=settings.default_language,
        answer_threshold=settings.answer_threshold,
        labelled_questions=settings.index_dir / LABELLED_FILE,
    )
