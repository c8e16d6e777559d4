"""Benchmark: FAQ search as the FAQ grows to 1k, 10k and 100k phrasings. Not a test.

The phrasings are real ones (the three HINT3 bots' FAQs from ../shared/eval and the sample
FAQ), embedded with the configured model; above their number, each further phrasing is a
real one's vector moved a little at random (cosine ≈ 0.9 to it, as a paraphrase is) or, for
the lexical index, a real phrasing with one word of another. The queries are HINT3's real
customer questions. For each size it prints, on one core: the exact (flat) index's query
p50/p95, the approximate (IVF) index's build time, query p50/p95 and recall@5 against the
exact one (phrasing ids, and entries: a moved copy counts as its original's entry), which
index knowledge/index.py picks, how long the picked index takes to change in place (one
entry of 5 phrasings removed, one of 5 new phrasings added and embedded, as publishing an
FAQ entry does), how long the answer policy's calibration takes on that FAQ (an entry per real
phrasing, its moved copies and their words as its other phrasings), and the lexical (BM25)
index's build time and query p50/p95.

``--bare`` sizes: calibration of an FAQ of one question per entry (an entry per phrasing),
each in a process of its own, with its time and the process's peak RSS before and after: such
an FAQ's cases are scored against as many entries as it has phrasings.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_scale.py --sizes 1000 10000 100000
    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_scale.py --sizes --bare 1000 10000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import faiss
import numpy as np
from benchkit import p95

from core.settings import PROJECT_ROOT, get_settings
from knowledge.calibration import calibrate
from knowledge.embedder import Embedder, Vectors
from knowledge.index import APPROXIMATE_ABOVE, FaqIndex, new_index
from knowledge.lexical import LexicalIndex
from knowledge.loader import load_faq
from knowledge.models import FaqEntry, FaqVariant, IndexedText

EVAL = PROJECT_ROOT.parent / "shared" / "eval"
BOTS = ("hint3_sofmattress", "hint3_curekart", "hint3_powerplay11")
#: Spread of the random move that makes a synthetic phrasing from a real one's vector.
NOISE = 0.02
#: Hits fetched per query, of which the first k (and the first k entries) are compared.
SEARCHED = 50


def real_phrasings() -> list[str]:
    entries = [e for bot in BOTS for e in load_faq(EVAL / bot / "faq.csv")]
    entries += load_faq(PROJECT_ROOT / "knowledge" / "faq")
    texts = [p for e in entries for v in e.variants.values() for p in v.phrasings if v.lang == "en"]
    return list(dict.fromkeys(texts))


def queries() -> list[str]:
    found = []
    for bot in BOTS:
        lines = (EVAL / bot / "questions_dev.jsonl").read_text(encoding="utf-8").splitlines()
        found += [json.loads(line)["text"] for line in lines if line.strip()]
    return found


def grown(base: Vectors, size: int, rng: np.random.Generator) -> tuple[Vectors, np.ndarray]:
    """``size`` unit vectors: the real ones, then moved copies of them; and each one's
    original (its entry, as a paraphrase belongs to its original's)."""
    if size <= len(base):
        return base[:size], np.arange(size)
    parents = rng.integers(0, len(base), size - len(base))
    moved = base[parents] + rng.normal(0, NOISE, (len(parents), base.shape[1])).astype(np.float32)
    moved /= np.linalg.norm(moved, axis=1, keepdims=True)
    vectors = np.vstack([base, moved]).astype(np.float32)
    return vectors, np.concatenate([np.arange(len(base)), parents])


def faiss_flat(vectors: Vectors) -> faiss.Index:
    """The exact index knowledge/index.py builds (ids in an id map)."""
    return new_index(vectors.shape[1], vectors, approximate=False)


def timed_search(index: faiss.Index, query_vectors: Vectors) -> tuple[list[float], list[list[int]]]:
    """Each query's search time (ms) and the ids it found, best first."""
    latencies: list[float] = []
    found: list[list[int]] = []
    for vector in query_vectors:
        started = time.perf_counter()
        _, ids = index.search(vector.reshape(1, -1), SEARCHED)
        latencies.append((time.perf_counter() - started) * 1000)
        found.append([int(row) for row in ids[0] if row >= 0])
    return latencies, found


def recall(
    approximate: list[list[int]], exact: list[list[int]], k: int, entry: np.ndarray
) -> tuple[float, float]:
    """Recall@k of the phrasings and of the entries (the first k distinct ones)."""

    def entries(ids: list[int]) -> set[int]:
        return set(list(dict.fromkeys(int(entry[i]) for i in ids))[:k])

    pairs = list(zip(approximate, exact, strict=True))
    of_ids = statistics.mean(len(set(a[:k]) & set(e[:k])) / k for a, e in pairs)
    of_entries = statistics.mean(len(entries(a) & entries(e)) / k for a, e in pairs)
    return of_ids, of_entries


def lexical_entries(texts: list[str], size: int, rng: random.Random) -> list[FaqEntry]:
    """``size`` one-phrasing entries: the real phrasings, then each with a word of another."""
    words = [word for text in texts for word in text.split()]
    phrasings = list(texts[:size])
    while len(phrasings) < size:
        phrasings.append(f"{rng.choice(texts)} {rng.choice(words)}")
    return [
        FaqEntry(id=f"e{n}", variants={"en": FaqVariant(lang="en", question=text, answer="")})
        for n, text in enumerate(phrasings)
    ]


def update_ms(
    index: faiss.Index, entry: np.ndarray, new_phrasings: list[str], embedder: Embedder
) -> float:
    """How long replacing one entry's phrasings by new ones takes, in place (ms)."""
    texts = [IndexedText(f"e{owner}", "en", f"p{row}") for row, owner in enumerate(entry)]
    gone = texts[0].entry_id
    changed = [text for text in texts if text.entry_id != gone]
    changed += [IndexedText("new", "en", text) for text in new_phrasings]
    started = time.perf_counter()
    FaqIndex(index, texts, "before").updated(changed, embedder, "after")
    return (time.perf_counter() - started) * 1000


def calibration_s(
    index: faiss.Index,
    entry: np.ndarray,
    texts: list[str],
    embedder: Embedder,
    *,
    bare: bool = False,
) -> float:
    """How long calibrating the answer policy on this FAQ takes (s); ``bare``: an entry of
    one question per phrasing, not one per real phrasing with its moved copies."""
    rng = random.Random(7)
    words = [word for text in texts for word in text.split()]
    owners = entry.tolist()
    row_words = [
        texts[owner] if row < len(texts) else f"{texts[owner]} {rng.choice(words)}"
        for row, owner in enumerate(owners)
    ]
    if bare:
        owners = list(range(len(owners)))
    groups: dict[int, list[str]] = {}
    for owner, phrasing in zip(owners, row_words, strict=True):
        groups.setdefault(owner, []).append(phrasing)
    entries = [
        FaqEntry(f"e{owner}", {"en": FaqVariant("en", found[0], "", tuple(found[1:]))})
        for owner, found in groups.items()
    ]
    indexed = [
        IndexedText(f"e{owner}", "en", phrasing)
        for owner, phrasing in zip(owners, row_words, strict=True)
    ]
    started = time.perf_counter()
    calibrate(entries, FaqIndex(index, indexed, "bench"), embedder)
    return time.perf_counter() - started


@dataclass(frozen=True)
class SizeFigures:
    """FAQ search at one size (ms unless named otherwise)."""

    size: int
    picked: str
    flat_p95: float
    ivf_p95: float
    recall_phrasings: float
    recall_entries: float
    lexical_p95: float


def measure(sizes: list[int], k: int = 5) -> list[SizeFigures]:
    """Print the table row of each size as it is measured; return the headline figures."""
    faiss.omp_set_num_threads(1)
    settings = get_settings()
    embedder = Embedder(settings.embedding_model)
    texts, questions = real_phrasings(), queries()
    print(
        f"{len(texts)} real phrasings, {len(questions)} real questions, model {embedder.model_name}"
    )
    base = embedder.encode(texts, role="passage", progress=True)
    query_vectors = embedder.encode(questions, role="query", progress=False)
    rng = np.random.default_rng(7)
    header = (
        "phrasings | picked | flat p50/p95 ms | IVF build s | IVF p50/p95 ms "
        "| recall@5 phrasings / entries "
        "| update in place ms | calibration s | lexical build s | lexical p50/p95 ms"
    )
    print(header)
    print("|".join("---" for _ in header.split("|")))
    figures = []
    for size in sizes:
        vectors, entry = grown(base, size, rng)
        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(vectors)
        flat_ms, exact = timed_search(flat, query_vectors)
        started = time.perf_counter()
        ivf = new_index(vectors.shape[1], vectors, approximate=True)
        build_s = time.perf_counter() - started
        ivf_ms, approximate = timed_search(ivf, query_vectors)
        of_ids, of_entries = recall(approximate, exact, k, entry)
        picked_index = ivf if size > APPROXIMATE_ABOVE else faiss_flat(vectors)
        changed_ms = update_ms(picked_index, entry, questions[:5], embedder)
        calibrated_s = calibration_s(picked_index, entry, texts, embedder)
        started = time.perf_counter()
        lexical = LexicalIndex(lexical_entries(texts, size, random.Random(7)))
        lexical_build_s = time.perf_counter() - started
        lexical_ms = []
        for question in questions:
            started = time.perf_counter()
            lexical.coverages(question, "en")
            lexical_ms.append((time.perf_counter() - started) * 1000)
        picked = "IVF" if size > APPROXIMATE_ABOVE else "flat"
        print(
            f"{size} | {picked} | {statistics.median(flat_ms):.2f} / {p95(flat_ms):.2f} | "
            f"{build_s:.1f} | {statistics.median(ivf_ms):.2f} / {p95(ivf_ms):.2f} | "
            f"{of_ids:.3f} / {of_entries:.3f} | {changed_ms:.0f} | {calibrated_s:.1f} | "
            f"{lexical_build_s:.1f} | "
            f"{statistics.median(lexical_ms):.1f} / {p95(lexical_ms):.1f}",
            flush=True,
        )
        figures.append(
            SizeFigures(
                size, picked, p95(flat_ms), p95(ivf_ms), of_ids, of_entries, p95(lexical_ms)
            )
        )
    return figures


def peak_rss_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def bare_calibration(size: int) -> None:
    """Print the row of a bare FAQ of ``size`` entries (run alone: a peak only rises)."""
    embedder = Embedder(get_settings().embedding_model)
    texts = real_phrasings()
    base = embedder.encode(texts, role="passage", progress=False)
    vectors, entry = grown(base, size, np.random.default_rng(7))
    before = peak_rss_mb()
    seconds = calibration_s(faiss_flat(vectors), entry, texts, embedder, bare=True)
    print(f"{size} | {seconds:.1f} | {before} → {peak_rss_mb()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10_000, 100_000])
    parser.add_argument("--bare", type=int, nargs="*", default=[])
    parser.add_argument("--bare-one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--k", type=int, default=5)
    arguments = parser.parse_args()
    if arguments.bare_one:
        bare_calibration(arguments.bare_one)
        return
    if arguments.sizes:
        measure(arguments.sizes, arguments.k)
    if arguments.bare:
        print("bare FAQ entries | calibration s | peak RSS MB before → after")
        print("---|---|---")
    for size in arguments.bare:
        subprocess.run([sys.executable, __file__, "--bare-one", str(size)], check=True)


if __name__ == "__main__":
    main()
