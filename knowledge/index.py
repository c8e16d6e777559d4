"""A FAISS index of every FAQ phrasing, persisted with its id map and rebuilt only on change.

On disk, in ``index_dir``: ``faq.faiss`` (an ``IndexIDMap2`` over ``IndexFlatIP``: exact
cosine search on unit vectors, a few thousand rows answer in well under a millisecond; above
APPROXIMATE_ABOVE phrasings an ``IndexIVFFlat``, which searches only the clusters nearest
the question, see scripts/bench_scale.py) and ``faq.json`` (the content hash and the id
map: FAISS id -> entry id, language, text); with a cross-lingual model (knowledge/
cross_lingual.py), ``faq.second.npz`` holds its vectors of the phrasings, with the hash; for a
blended index, ``faq.questions.npz`` holds the phrasings embedded as questions (calibration
asks them), with the hash.
The hash covers the model name and every indexed text, so editing the FAQ or switching the
model makes a new index, and nothing else does. A new index's phrasings are embedded with the
passage prefix, or blended when the model has two and the FAQ ranks better so (knowledge/
passages.py); ``faq.json`` records which. Given the index it replaces, the new one is
that index with the phrasings gone removed and the new ones added (their vectors only are
computed): a one-entry change to a 100k-phrasing FAQ costs no re-clustering.
Processes that share ``index_dir`` (the action servers of ``helpdesk run --replicas``, each
seeing a published entry) build it one at a time, under ``index.lock``: the ones that waited
find the index built and load it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt
from filelock import FileLock

from knowledge.embedder import Embedder, Vectors
from knowledge.models import FaqEntry, IndexedText
from knowledge.passages import JudgedVectors, PassageChoice, choose_passages

logger = logging.getLogger(__name__)

IdArray = npt.NDArray[np.int64]

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
#: An index is updated in place (phrasings removed and added) while at least this share of
#: the new FAQ's phrasings were in it; below that its clusters were learnt on data that is
#: mostly gone, and it is built afresh.
MIN_KEPT_SHARE = 0.5
INDEX_FILE = "faq.faiss"
META_FILE = "faq.json"
SECOND_FILE = "faq.second.npz"
QUESTIONS_FILE = "faq.questions.npz"
BUILD_LOCK = "index.lock"


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
    """Inner-product search over FAQ phrasings; ``ids[i]`` is the FAISS id of ``texts[i]``
    (its position, unless the index was updated in place). ``passages`` says how the
    phrasings were embedded (blended or not); an index updated in place keeps it."""

    def __init__(
        self,
        index: faiss.Index,
        texts: list[IndexedText],
        digest: str,
        ids: IdArray | None = None,
        passages: PassageChoice | None = None,
    ) -> None:
        self._index = index
        self.texts = texts
        self.digest = digest
        self.ids = np.arange(len(texts), dtype=np.int64) if ids is None else ids
        self.passages = passages or PassageChoice(False)
        self._row_of = None if ids is None else {int(i): row for row, i in enumerate(ids)}
        self._second: Vectors | None = None
        self._questions: Vectors | None = None

    @property
    def blended(self) -> bool:
        return self.passages.blended

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def faiss_index(self) -> faiss.Index:
        return self._index

    def vectors(self) -> Vectors:
        """Every row's vector, in row order (for calibration, which scores phrasings
        against each other)."""
        if self.size == 0:
            return np.zeros((0, self._index.d), dtype=np.float32)
        return np.asarray(self._index.reconstruct_batch(self.ids), dtype=np.float32)

    def question_vectors(self, embedder: Embedder) -> Vectors:
        """Every row's phrasing embedded as a customer's question would be, in row order (for
        calibration): the index's own vectors when the model embeds both alike, else those
        :func:`load_or_build` gave it (stored, lent or made), or made on first use."""
        if not self.blended and embedder.prefixes.symmetric:
            return self.vectors()
        if self._questions is None:
            self._questions = embedder.encode([text.text for text in self.texts], role="query")
        return self._questions

    @property
    def holds_questions(self) -> bool:
        """Whether this index holds its phrasings' question vectors (made or loaded)."""
        return self._questions is not None

    def question_vectors_of(self, words: list[str], embedder: Embedder) -> Vectors:
        """``words`` embedded as questions: this index's where it holds them for the same
        words, else embedded."""
        return _by_words(
            words, self.texts, self._questions, lambda new: embedder.encode(new, role="query")
        )

    def keep_question_vectors(self, vectors: Vectors) -> None:
        """Hold ``vectors`` (one per row, in row order) as the rows' question vectors."""
        if len(vectors) != len(self.texts):
            raise ValueError(f"{len(vectors)} vectors for {len(self.texts)} phrasings")
        self._questions = vectors

    def search(self, query: Vectors, k: int) -> list[tuple[IndexedText, float]]:
        """The ``k`` nearest phrasings to one query vector, best first."""
        return [(self.texts[row], score) for row, score in self.search_rows(query, k)]

    def search_rows(self, query: Vectors, k: int) -> list[tuple[int, float]]:
        """The rows of the ``k`` nearest phrasings to one query vector, best first."""
        if self.size == 0:
            return []
        scores, ids = self._index.search(query.reshape(1, -1), min(k, self.size))
        return [
            (self._row(int(found)), float(score))
            for score, found in zip(scores[0], ids[0], strict=True)
            if found >= 0
        ]

    def second_vectors(self, embedder: Embedder) -> Vectors:
        """Every row's vector by the embedder's cross-lingual model, in row order (made on
        first use unless :func:`load_or_build` loaded or made them)."""
        if self._second is None:
            self._second = self.second_vectors_of([text.text for text in self.texts], embedder)
        return self._second

    def second_vectors_of(self, words: list[str], embedder: Embedder) -> Vectors:
        """The cross-lingual model's vectors of ``words``: this index's where it has them
        for the same words, else embedded (about 1,800 phrasings a second on one core)."""
        assert embedder.cross_lingual is not None
        return _by_words(words, self.texts, self._second, embedder.cross_lingual.encode)

    def keep_second_vectors(self, vectors: Vectors) -> None:
        """Hold ``vectors`` (one per row, in row order) as the cross-lingual model's."""
        if len(vectors) != len(self.texts):
            raise ValueError(f"{len(vectors)} vectors for {len(self.texts)} phrasings")
        self._second = vectors

    def _row(self, faiss_id: int) -> int:
        return faiss_id if self._row_of is None else self._row_of[faiss_id]

    @property
    def approximate(self) -> bool:
        return faiss.try_extract_index_ivf(self._index) is not None

    def updated(self, texts: list[IndexedText], embedder: Embedder, digest: str) -> FaqIndex:
        """This index with the phrasings not in ``texts`` removed and the new ones added
        (embedded unless this index holds the same words), as a copy: this one keeps serving."""
        ids_of: dict[IndexedText, list[int]] = defaultdict(list)
        for text, faiss_id in zip(self.texts, self.ids.tolist(), strict=True):
            ids_of[text].append(faiss_id)
        ids, added = np.empty(len(texts), dtype=np.int64), []
        for row, text in enumerate(texts):
            if ids_of.get(text):
                ids[row] = ids_of[text].pop()
            else:
                added.append(row)
        gone = np.array([i for left in ids_of.values() for i in left], dtype=np.int64)
        next_id = int(self.ids.max()) + 1 if len(self.ids) else 0
        ids[added] = np.arange(next_id, next_id + len(added), dtype=np.int64)
        index = faiss.clone_index(self._index)
        if len(gone):
            index.remove_ids(faiss.IDSelectorArray(len(gone), faiss.swig_ptr(gone)))
        if added:
            index.add_with_ids(
                self.vectors_of([texts[row].text for row in added], embedder), ids[added]
            )
        return FaqIndex(index, texts, digest, ids, self.passages)

    def vectors_of(
        self, words: list[str], embedder: Embedder, *, progress: bool = False
    ) -> Vectors:
        """The vectors of ``words``: this index's where it holds the same words, else embedded
        (each distinct new one once)."""
        held = {
            text.text: faiss_id
            for text, faiss_id in zip(self.texts, self.ids.tolist(), strict=True)
        }
        missing = list(dict.fromkeys(word for word in words if word not in held))
        fresh: dict[str, Vectors] = {}
        if missing:
            embedded = embedder.encode(
                missing, role="passage", blended=self.blended, progress=progress
            )
            fresh = dict(zip(missing, embedded, strict=True))
        kept = [word for word in words if word not in fresh]
        old = (
            dict(
                zip(
                    kept,
                    self._index.reconstruct_batch(np.array([held[w] for w in kept])),
                    strict=True,
                )
            )
            if kept
            else {}
        )
        rows = [fresh[word] if word in fresh else old[word] for word in words]
        return np.asarray(np.stack(rows), dtype=np.float32)

    def can_become(self, size: int) -> bool:
        """Whether this index can be updated in place into one of ``size`` phrasings: the
        same kind (exact or clustered), and clusters that can lose members by id."""
        if (size > APPROXIMATE_ABOVE) != self.approximate:
            return False
        if not self.approximate:
            return True
        return isinstance(self._index, faiss.IndexIVF) and (
            self._index.direct_map.type == faiss.DirectMap.Hashtable  # type: ignore[attr-defined]
        )


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
    more embeds that entry only (the live FAQ is updated in seconds), and keeps ``reuse``'s
    way of embedding them; an index built afresh chooses it (knowledge/passages.py).

    Returns:
        The index and whether it was (re)built.
    """
    texts = indexed_texts(entries)
    digest = content_hash(texts, embedder.identity)
    index_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(index_dir / BUILD_LOCK):
        return _load_or_build_locked(texts, digest, embedder, index_dir, progress, reuse)


def _load_or_build_locked(
    texts: list[IndexedText],
    digest: str,
    embedder: Embedder,
    index_dir: Path,
    progress: bool,
    reuse: FaqIndex | None,
) -> tuple[FaqIndex, bool]:
    existing = _load(index_dir, digest)
    if existing is not None:
        _with_question_vectors(existing, embedder, index_dir, reuse)
        if embedder.cross_lingual is not None:
            _with_second_vectors(existing, embedder, index_dir, reuse)
        return existing, False
    if reuse is not None and _worth_updating(reuse, texts):
        logger.info("updating FAQ index in place: %d phrasings", len(texts))
        updated = reuse.updated(texts, embedder, digest)
    else:
        logger.info("building FAQ index: %d phrasings, model %s", len(texts), embedder.model_name)
        choice, judged = choose_passages(texts, embedder, progress=progress)
        vectors = _vectors(texts, embedder, reuse, choice, judged, progress=progress)
        updated = FaqIndex(new_index(embedder.dimension, vectors), texts, digest, None, choice)
        if judged is not None and choice.blended and len(judged.words) == len(texts):
            updated.keep_question_vectors(judged.questions)
    _save(index_dir, updated, embedder.model_name)
    _with_question_vectors(updated, embedder, index_dir, reuse)
    if embedder.cross_lingual is not None:
        _with_second_vectors(updated, embedder, index_dir, reuse)
    return updated, True


def _with_second_vectors(
    index: FaqIndex, embedder: Embedder, index_dir: Path, reuse: FaqIndex | None
) -> None:
    """Give ``index`` the cross-lingual model's phrasing vectors: stored beside it for the
    same hash, else made (from ``reuse`` where it has the same words) and stored. Made at
    every start, a 100k-phrasing FAQ spent about a minute on them, and so did every entry
    an agent published into it (the updated index started with none)."""
    words = [text.text for text in index.texts]
    index.keep_second_vectors(
        _stored_or_made(
            index_dir / SECOND_FILE,
            index,
            lambda: (reuse or index).second_vectors_of(words, embedder),
        )
    )


def _with_question_vectors(
    index: FaqIndex, embedder: Embedder, index_dir: Path, reuse: FaqIndex | None
) -> None:
    """Give a blended index its phrasings embedded as questions, which calibration asks:
    stored beside it for the same hash, else made (from ``reuse`` where it has them for the
    same words, or as the choice made them) and stored. An index whose vectors are questions'
    (one prefix for both) needs none. Made again after every start, a published entry's live
    FAQ embedded every phrasing a second time to calibrate (the sample FAQ: 10.5 s, now
    3.1 s)."""
    if not index.blended and embedder.prefixes.symmetric:
        return
    words = [text.text for text in index.texts]
    lender = reuse if reuse is not None and reuse.holds_questions else index
    index.keep_question_vectors(
        _stored_or_made(
            index_dir / QUESTIONS_FILE,
            index,
            lambda: lender.question_vectors_of(words, embedder),
        )
    )


def _stored_or_made(path: Path, index: FaqIndex, make: Callable[[], Vectors]) -> Vectors:
    """The vectors stored at ``path`` for ``index``'s hash, else ``make()``'s, stored there
    (atomically: a reader sees the old file or the new one)."""
    try:
        with np.load(path) as stored:
            if str(stored["hash"]) == index.digest and len(stored["vectors"]) == index.size:
                return np.asarray(stored["vectors"], dtype=np.float32)
    except (OSError, ValueError, KeyError):
        pass  # none yet, or unreadable: made again
    vectors = make()
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}.npz")
    np.savez(tmp, hash=np.array(index.digest), vectors=vectors)
    os.replace(tmp, path)
    return vectors


def _by_words(
    words: list[str],
    texts: Sequence[IndexedText],
    held: Vectors | None,
    encode: Callable[[list[str]], Vectors],
) -> Vectors:
    """``words``' vectors: ``held``'s (one per row of ``texts``) where it has the same words,
    else ``encode``'s (each distinct new one once)."""
    if not words:
        return encode([])
    known: dict[str, Vectors] = {}
    if held is not None:
        known = {text.text: held[row] for row, text in enumerate(texts)}
    missing = list(dict.fromkeys(word for word in words if word not in known))
    known.update(zip(missing, encode(missing), strict=True))
    return np.asarray(np.stack([known[word] for word in words]), dtype=np.float32)


def _worth_updating(reuse: FaqIndex, texts: list[IndexedText]) -> bool:
    """Whether updating ``reuse`` in place gives the index a fresh build would (see
    MIN_KEPT_SHARE)."""
    if not texts or not reuse.can_become(len(texts)):
        return False
    kept = len(set(texts) & set(reuse.texts))
    return kept >= MIN_KEPT_SHARE * len(texts)


def new_index(dimension: int, vectors: Vectors, *, approximate: bool | None = None) -> faiss.Index:
    """An index of ``vectors`` (unit length; row ids in order): exact up to APPROXIMATE_ABOVE
    rows, IVF above (or as ``approximate`` says, for benchmarks)."""
    rows = len(vectors)
    index: faiss.Index
    if not (rows > APPROXIMATE_ABOVE if approximate is None else approximate):
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
    else:
        clusters = int(CLUSTERS_PER_ROOT * math.sqrt(rows))
        quantizer = faiss.IndexFlatIP(dimension)
        clustered = faiss.IndexIVFFlat(quantizer, dimension, clusters, faiss.METRIC_INNER_PRODUCT)
        clustered.train(vectors)
        clustered.nprobe = CLUSTERS_SEARCHED
        # FAISS ids straight into the clusters, with a hash map from id to vector: both
        # updating in place and reconstructing a vector work by id.
        clustered.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]
        index = clustered
    if rows:
        index.add_with_ids(vectors, np.arange(rows, dtype=np.int64))
    return index


def _vectors(
    texts: list[IndexedText],
    embedder: Embedder,
    reuse: FaqIndex | None,
    choice: PassageChoice,
    judged: JudgedVectors | None,
    *,
    progress: bool,
) -> Vectors:
    """Every phrasing's vector, of the ``choice``'s kind: made while choosing, from
    ``reuse`` where it has the same words embedded the same way, else embedded."""
    words = [text.text for text in texts]
    known = dict(zip(judged.words, judged.chosen, strict=True)) if judged else {}
    rest = list(dict.fromkeys(word for word in words if word not in known))
    if rest:
        if reuse is not None and reuse.blended == choice.blended:
            made = reuse.vectors_of(rest, embedder, progress=progress)
        else:
            made = embedder.encode(rest, role="passage", blended=choice.blended, progress=progress)
        known.update(zip(rest, made, strict=True))
    if not words:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.asarray(np.stack([known[word] for word in words]), dtype=np.float32)


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
    ids = np.asarray(meta["ids"], dtype=np.int64) if "ids" in meta else None
    if index.ntotal != len(texts) or (ids is not None and len(ids) != len(texts)):
        return None
    return FaqIndex(index, texts, digest, ids, _passages(meta.get("passages")))


def _passages(stored: object) -> PassageChoice:
    """The stored choice (an index from before the choice was made holds no blend)."""
    if not isinstance(stored, dict):
        return PassageChoice(False)
    return PassageChoice(
        bool(stored.get("blended", False)),
        int(stored.get("asked", 0)),
        stored.get("top1_single"),
        stored.get("top1_blended"),
        stored.get("same_question_bar"),
    )


def _save(index_dir: Path, index: FaqIndex, model: str) -> None:
    """Write both files atomically, index first.

    A reader never pairs a new id map with an old index: on a mismatch it rebuilds.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    suffix = f".tmp-{os.getpid()}"
    index_tmp = index_dir / (INDEX_FILE + suffix)
    meta_tmp = index_dir / (META_FILE + suffix)
    faiss.write_index(index.faiss_index, str(index_tmp))
    meta: dict[str, object] = {
        "hash": index.digest,
        "model": model,
        "texts": [asdict(text) for text in index.texts],
        "passages": index.passages.as_json(),
    }
    if not np.array_equal(index.ids, np.arange(index.size)):
        meta["ids"] = index.ids.tolist()
    meta_tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    os.replace(index_tmp, index_dir / INDEX_FILE)
    os.replace(meta_tmp, index_dir / META_FILE)
