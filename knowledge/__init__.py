"""FAQ knowledge base: loading, embedding, a FAISS index, search and the answer decision.

Importing this package loads no model; :meth:`KnowledgeBase.warm_up` does, at service start.
"""

from knowledge.base import KnowledgeBase
from knowledge.decision import Answer, Choice
from knowledge.errors import EmbeddingModelError, FaqFormatError, KnowledgeError
from knowledge.models import FaqEntry, FaqVariant, SearchHit

__all__ = [
    "Answer",
    "Choice",
    "EmbeddingModelError",
    "FaqEntry",
    "FaqFormatError",
    "FaqVariant",
    "KnowledgeBase",
    "KnowledgeError",
    "SearchHit",
]
