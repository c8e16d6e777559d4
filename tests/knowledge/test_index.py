"""The FAISS index is persisted with its id map and rebuilt only when content or model change."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import faiss
import numpy as np
import pytest
from filelock import FileLock

from knowledge import KnowledgeBase
from knowledge import index as index_module
from knowledge.embedder import Embedder
from knowledge.index import BUILD_LOCK, FaqIndex, content_hash, indexed_texts, load_or_build
from knowledge.loader import dump_csv
from knowledge.models import FaqEntry, FaqVariant, IndexedText
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow


def entry(entry_id: str, question: str, answer: str = "An answer.") -> FaqEntry:
    return FaqEntry(entry_id, {"en": FaqVariant("en", question, answer, ("another way to ask",))})


def test_second_load_reuses_the_persisted_index(tmp_path: Path, embedder: Embedder) -> None:
    entries = [entry("a", "How do I reset my password?"), entry("b", "Where is my order?")]
    first, rebuilt_first = load_or_build(entries, embedder, tmp_path, progress=False)
    second, rebuilt_second = load_or_build(entries, embedder, tmp_path, progress=False)
    assert (rebuilt_first, rebuilt_second) == (True, False)
    assert second.size == first.size == 4
    assert second.texts == first.texts


def test_edited_question_triggers_a_rebuild(tmp_path: Path, embedder: Embedder) -> None:
    load_or_build([entry("a", "How do I reset my password?")], embedder, tmp_path, progress=False)
    index, rebuilt = load_or_build(
        [entry("a", "How do I change my password?")], embedder, tmp_path, progress=False
    )
    assert rebuilt
    assert index.texts[0].text == "How do I change my password?"


def test_id_map_points_each_row_at_its_entry(tmp_path: Path, embedder: Embedder) -> None:
    entries = [
        entry("password", "How do I reset my password?"),
        entry("order", "Where is my order?"),
    ]
    index, _ = load_or_build(entries, embedder, tmp_path, progress=False)
    [(best, score)] = index.search(embedder.encode(["where's my parcel, my order"])[0], 1)
    assert best.entry_id == "order"
    assert 0.0 < score <= 1.0001


def test_corrupt_index_file_is_rebuilt_not_fatal(tmp_path: Path, embedder: Embedder) -> None:
    entries = [entry("a", "How do I reset my password?")]
    load_or_build(entries, embedder, tmp_path, progress=False)
    (tmp_path / "faq.faiss").write_bytes(b"not an index")
    index, rebuilt = load_or_build(entries, embedder, tmp_path, progress=False)
    assert rebuilt and index.size == 2


def test_hash_depends_on_model_and_answer_free_texts() -> None:
    texts = indexed_texts([entry("a", "Q?")])
    assert content_hash(texts, "model-one") != content_hash(texts, "model-two")
    # Answers are not embedded: editing one must not cost a rebuild.
    assert content_hash(indexed_texts([entry("a", "Q?", "New answer.")]), "m") == content_hash(
        texts, "m"
    )


def test_an_index_to_reuse_spares_embedding_its_phrasings_again(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The live FAQ gains an entry: only that entry's phrasings are embedded."""
    before = [entry("a", "How do I reset my password?"), entry("b", "Where is my order?")]
    old, _ = load_or_build(before, embedder, tmp_path / "old", progress=False)
    embedded: list[str] = []
    encode = embedder.encode

    def counting(texts: list[str], **kwargs: object) -> object:
        embedded.extend(texts)
        return encode(texts, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(embedder, "encode", counting)
    after = [*before[:1], entry("c", "Do you sell gift cards?")]  # b gone, c new
    new, rebuilt = load_or_build(after, embedder, tmp_path / "new", progress=False, reuse=old)
    assert rebuilt and embedded == ["Do you sell gift cards?"]  # "another way to ask" reused
    fresh, _ = load_or_build(after, embedder, tmp_path / "fresh", progress=False)
    assert new.texts == fresh.texts
    assert (abs(new.vectors() - fresh.vectors()) < 1e-6).all()  # the same index either way


def test_a_large_faq_gets_a_clustered_index_that_finds_what_the_exact_one_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above APPROXIMATE_ABOVE phrasings the index is IVF: it answers as the exact index does
    (here: each phrasing's own vector finds that phrasing) and keeps its settings on disk."""
    monkeypatch.setattr(index_module, "APPROXIMATE_ABOVE", 1_000)
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(4_000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    built = index_module.new_index(32, vectors)
    assert isinstance(faiss.extract_index_ivf(built), faiss.IndexIVF)
    small = index_module.new_index(32, vectors[:1_000])
    assert small.ntotal == 1_000 and not isinstance(
        faiss.try_extract_index_ivf(small), faiss.IndexIVF
    )
    with tempfile.TemporaryDirectory() as directory:
        faiss.write_index(built, f"{directory}/faq.faiss")
        loaded = faiss.read_index(f"{directory}/faq.faiss")
    assert faiss.extract_index_ivf(loaded).nprobe == index_module.CLUSTERS_SEARCHED
    _, found = loaded.search(vectors[:500], 1)
    assert (found.ravel() == np.arange(500)).mean() >= 0.99
    assert np.allclose(loaded.reconstruct_batch(np.arange(5)), vectors[:5])


def test_an_index_updated_in_place_is_persisted_with_its_ids(
    tmp_path: Path, embedder: Embedder
) -> None:
    """The FAISS ids of an index changed in place are not its row numbers: a restart must
    load them, or every search would name the wrong phrasing."""
    before = [entry("a", "How do I reset my password?"), entry("b", "Where is my order?")]
    old, _ = load_or_build(before, embedder, tmp_path / "old", progress=False)
    after = [before[0], entry("c", "Do you sell gift cards?")]
    new, _ = load_or_build(after, embedder, tmp_path / "new", progress=False, reuse=old)
    assert new.ids.tolist() != list(range(new.size))  # b's ids gone, c's appended
    again, rebuilt = load_or_build(after, embedder, tmp_path / "new", progress=False)
    assert not rebuilt and again.ids.tolist() == new.ids.tolist()
    [(best, _)] = again.search(embedder.encode(["gift card"], role="query")[0], 1)
    assert best.entry_id == "c"


def test_a_clustered_index_changes_in_place_without_clustering_again(
    embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Publishing one entry to a large FAQ removes and adds phrasings in the IVF index it
    has: the clusters stay, the old index keeps serving, and the new one finds what a fresh
    build would."""
    monkeypatch.setattr(index_module, "APPROXIMATE_ABOVE", 1_000)
    dimension = embedder.dimension
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(1_200, dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = [IndexedText(f"e{row // 4}", "en", f"phrasing {row}") for row in range(1_200)]
    old = FaqIndex(index_module.new_index(dimension, vectors), texts, "before")
    changed = [text for text in texts if text.entry_id not in {"e0", "e1"}]
    changed += [
        IndexedText("gift-cards", "en", "Do you sell gift cards?"),
        IndexedText("copy", "en", "phrasing 10"),  # words the index holds: not embedded
    ]
    new = old.updated(changed, embedder, "after")

    assert new.approximate and new.size == len(changed) and old.size == len(texts)
    centroids = [
        faiss.extract_index_ivf(index.faiss_index).quantizer.reconstruct_n(0, 10)
        for index in (old, new)
    ]
    assert np.array_equal(*centroids)
    row = {text: position for position, text in enumerate(new.texts)}
    stored = new.vectors()
    assert np.allclose(stored[row[changed[0]]], vectors[8])
    assert np.allclose(stored[row[changed[-1]]], vectors[10])
    gift = embedder.encode(["Do you sell gift cards?"], role="passage")[0]
    assert np.allclose(stored[row[changed[-2]]], gift, atol=1e-5)
    found = [new.search(vectors[n], 1)[0][0] for n in range(8, 200)]
    assert sum(hit == texts[n] for hit, n in zip(found, range(8, 200), strict=True)) >= 188
    gone = {hit.entry_id for n in range(8) for hit, _ in new.search(vectors[n], 5)}
    assert not gone & {"e0", "e1"}
    assert old.search(vectors[0], 1)[0][0] == texts[0]  # the old one serves as it was
    assert not new.can_become(900)  # a smaller FAQ gets an exact index, built afresh


def test_a_blended_index_keeps_its_question_vectors_and_lends_them(
    sample_kb: KnowledgeBase, embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Calibration asks a blended index's phrasings as questions: a published entry's index
    embeds only its own phrasings so, and a restart embeds none (they are stored)."""
    files = sample_kb.index
    assert files.blended and files.holds_questions
    gift = FaqEntry("gift-cards", {"en": FaqVariant("en", "Do you sell gift cards?", "Yes.")})
    entries = [*sample_kb.entries.values(), gift]
    asked: list[str] = []
    encode = embedder.encode

    def counting(texts: list[str], **kwargs: object) -> object:
        if kwargs.get("role") == "query":
            asked.extend(texts)
        return encode(texts, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(embedder, "encode", counting)
    live, _ = load_or_build(entries, embedder, tmp_path, progress=False, reuse=files)
    assert asked == ["Do you sell gift cards?"]
    rows = [0, len(live.texts) - 1]
    expected = encode([live.texts[row].text for row in rows], role="query")
    assert np.allclose(live.question_vectors(embedder)[rows], expected, atol=1e-5)
    asked.clear()
    restarted, rebuilt = load_or_build(entries, embedder, tmp_path, progress=False)
    assert not rebuilt and asked == []
    assert np.array_equal(restarted.question_vectors(embedder), live.question_vectors(embedder))


#: One action server process: the FAQ file, the model and the index directory as arguments;
#: says it is about to load the index, then the calibration's key it answers with.
ACTION_SERVER_LIKE = """
import logging, sys
from pathlib import Path
from knowledge import KnowledgeBase
from knowledge.embedder import Embedder
from knowledge.loader import load_faq
logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
kb = KnowledgeBase(load_faq(Path(sys.argv[1])), Embedder(sys.argv[2]), Path(sys.argv[3]))
print("loading", flush=True)
kb.warm_up(progress=False)
print("key", kb.calibration.key, flush=True)
"""


def test_processes_sharing_an_index_directory_build_and_calibrate_it_once(
    tmp_path: Path, embedder: Embedder
) -> None:
    """The action servers of `helpdesk run --replicas 2` loading a new FAQ at the same time:
    one embeds and calibrates, the other waits and loads what it stored."""
    faq = tmp_path / "faq.csv"
    dump_csv(
        [
            entry("password", "How do I reset my password?"),
            entry("order", "Where is my order?"),
            entry("refund", "Can I get my money back?"),
        ],
        faq,
    )
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    command = [sys.executable, "-c", ACTION_SERVER_LIKE, str(faq), embedder.model_name]
    with FileLock(index_dir / BUILD_LOCK):  # both start while a third process builds
        children = [
            subprocess.Popen(
                [*command, str(index_dir)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "loading"
    outputs = [child.communicate(timeout=300)[0] for child in children]
    assert [child.returncode for child in children] == [0, 0]
    logs = "".join(outputs)
    assert logs.count("building FAQ index") == 1
    assert logs.count("calibrating the answer policy") == 1
    keys = {line for output in outputs for line in output.splitlines() if line.startswith("key")}
    assert len(keys) == 1
