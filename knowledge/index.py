"""A FAISS index of every FAQ phrasing, persisted with its id map and rebuilt only on change.

On disk, in ``index_dir``: ``faq.faiss`` (an ``IndexIDMap2`` over ``IndexFlatIP``: exact
cosine search on unit vectors, a few thousand rows answer in well under a millisecond; above
APPROXIMATE_ABOVE phrasings over ``IndexIVFFlat``, which searches only the clusters nearest
the question, see scripts/bench_scale.py) and ``faq.json`` (the content hash and the id
map: row id -> entry id, language, text).
The hash covers the model name and every indexed text, so editing the FAQ or switching the
model rebuilds, and nothing else does.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import faiss
import numpy as np

from knowledge.embedder import Embedder, Vectors
from knowledge.models import FaqEntry, IndexedText

logger = logging.getLogger(__name__)

INDEX_FORMAT_VERSION = 2
#: Phrasings above which the index is approximate (IVF) rather than exact: where an exact
#: search on one core stops being cheap (scripts/bench_scale.py: flat p95 ≈ 0.6 ms at 10k,
#: ≈ 10 ms at 100k).
APPROXIMATE_ABOVE = 20_000
#: Clusters per √phrasings (FAISS's guidance: 4 to 16) and clusters searched per question:
#: recall@5 against the exact index ≥ 0.99 at 100k phrasings, p95 ≈ 1 ms on one core
#: (scripts/bench_scale.py). HNSW, tried first, reached 0.94 at three times the time: an
#: FAQ's phrasings come in tight groups of paraphrases, which suits clustering.
CLUSTERS_PER_ROOT = 4
CLUSTERS_SEARCHED = 64
INDEX_FILE = "faq.faiss"
META_FILE = "faq.json"


def indexed_texts(entries: Sequence[FaqEntry]) -> list[IndexedText]:
    """Every phrasing of every variant, in a stable order."""
    return [
        IndexedText(entry_id=entry.id, lang=lang, text=phrasing)
        for entry in sorted(entries, key=lambda e: e.id)
        for lang in entry.languages
        for phrasing in entry.variants[lang].phrasings
    ]


def content_hash(texts: Sequence[IndexedText], model_name: str) -> str:
    """What the index depends on: format version, model (with its prefixes) and texts."""
    payload = json.dumps(
        {
            "version": INDEX_FORMAT_VERSION,
            "model": model_name,
            "texts": [asdict(text) for text in texts],
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class FaqIndex:
    """Exact inner-product search over FAQ phrasings."""

    def __init__(self, index: faiss.Index, texts: list[IndexedText], digest: str) -> None:
        self._index = index
        self.texts = texts
        self.digest = digest

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    def vectors(self) -> Vectors:
        """Every row's vector, in row order (for calibration, which scores phrasings
        against each other)."""
        if self.size == 0:
            return np.zeros((0, self._index.d), dtype=np.float32)
        return np.asarray(self._index.reconstruct_batch(np.arange(self.size)), dtype=np.float32)

    def search(self, query: Vectors, k: int) -> list[tuple[IndexedText, float]]:
        """The ``k`` nearest phrasings to one query vector, best first."""
        if self.size == 0:
            return []
        scores, ids = self._index.search(query.reshape(1, -1), min(k, self.size))
        return [
            (self.texts[int(row)], float(score))
            for score, row in zip(scores[0], ids[0], strict=True)
            if row >= 0
        ]


def load_or_build(
    entries: Sequence[FaqEntry],
    embedder: Embedder,
    index_dir: Path,
    *,
    progress: bool = True,
    reuse: FaqIndex | None = None,
) -> tuple[FaqIndex, bool]:
    """Load the persisted index if its hash matches, else build and persist it. Phrasings
    ``reuse`` (an index of the same model) holds keep their vectors: an FAQ with one entry
    more embeds that entry only (the live FAQ is updated in seconds).

    Returns:
        The index and whether it was (re)built.
    """
    texts = indexed_texts(entries)
    digest = content_hash(texts, embedder.identity)
    existing = _load(index_dir, digest)
    if existing is not None:
        return existing, False
    logger.info("building FAQ index: %d phrasings, model %s", len(texts), embedder.model_name)
    vectors = _vectors(texts, embedder, reuse, progress=progress)
    index = new_index(embedder.dimension, vectors)
    _save(index_dir, index, texts, digest, embedder.model_name)
    return FaqIndex(index, texts, digest), True


def new_index(dimension: int, vectors: Vectors, *, approximate: bool | None = None) -> faiss.Index:
    """An index of ``vectors`` (unit length; row ids in order): exact up to APPROXIMATE_ABOVE
    rows, IVF above (or as ``approximate`` says, for benchmarks)."""
    rows = len(vectors)
    if not (rows > APPROXIMATE_ABOVE if approximate is None else approximate):
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
    else:
        clusters = int(CLUSTERS_PER_ROOT * math.sqrt(rows))
        quantizer = faiss.IndexFlatIP(dimension)
        clustered = faiss.IndexIVFFlat(quantizer, dimension, clusters, faiss.METRIC_INNER_PRODUCT)
        clustered.train(vectors)
        clustered.nprobe = CLUSTERS_SEARCHED
        clustered.set_direct_map_type(faiss.DirectMap.Array)  # type: ignore[attr-defined]
        index = faiss.IndexIDMap2(clustered)
    if rows:
        index.add_with_ids(vectors, np.arange(rows, dtype=np.int64))
    return index


def _vectors(
    texts: list[IndexedText], embedder: Embedder, reuse: FaqIndex | None, *, progress: bool
) -> Vectors:
    """Every phrasing's vector: from ``reuse`` where it has the same words, else embedded."""
    known = {text.text: row for row, text in enumerate(reuse.texts)} if reuse is not None else {}
    missing = list(dict.fromkeys(text.text for text in texts if text.text not in known))
    if reuse is None or len(missing) == len({text.text for text in texts}):
        return embedder.encode([text.text for text in texts], role="passage", progress=progress)
    old = reuse.vectors()
    fresh: dict[str, Vectors] = {}
    if missing:
        embedded = embedder.encode(missing, role="passage", progress=False)
        fresh = dict(zip(missing, embedded, strict=True))
    rows = [old[known[t.text]] if t.text in known else fresh[t.text] for t in texts]
    return np.asarray(np.stack(rows), dtype=np.float32)


def _load(index_dir: Path, digest: str) -> FaqIndex | None:
    meta_path, index_path = index_dir / META_FILE, index_dir / INDEX_FILE
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("hash") != digest or not index_path.exists():
        return None
    try:
        index = faiss.read_index(str(index_path))
    except RuntimeError:
        logger.warning("unreadable index at %s; rebuilding", index_path)
        return None
    texts = [IndexedText(**row) for row in meta["texts"]]
    if index.ntotal != len(texts):
        return None
    return FaqIndex(index, texts, digest)


def _save(
    index_dir: Path, index: faiss.Index, texts: list[IndexedText], digest: str, model: str
) -> None:
    """Write both files atomically, index first.

    A reader never pairs a new id map with an old index: on a mismatch it rebuilds.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    suffix = f".tmp-{os.getpid()}"
    index_tmp = index_dir / (INDEX_FILE + suffix)
    meta_tmp = index_dir / (META_FILE + suffix)
    faiss.write_index(index, str(index_tmp))
    meta = {"hash": digest, "model": model, "texts": [asdict(text) for text in texts]}
    meta_tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    os.replace(index_tmp, index_dir / INDEX_FILE)
    os.replace(meta_tmp, index_dir / META_FILE)
