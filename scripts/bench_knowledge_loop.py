"""The knowledge loop on public data: the live FAQ with the FAQ files' policy, then its own.

    .venv/bin/python scripts/bench_knowledge_loop.py [--only hint3_curekart ...] [--splits 2]

Each FAQ of ``scripts/bench_quality.py`` (the rows with alternatives) is split at random in
two halves of its entries: the first half are the FAQ files, calibrated on their own; the
second half is published, as agents' entries are (actions/live_faq.py). All the questions
are then asked of the whole FAQ answering with the files' policy (the interim the action
server answers with for the seconds its own calibration takes) and with its own
calibration. Printed per FAQ and split: MCC, answer accuracy, wrong moves, out-of-scope
recall and clarify rate of each, as bench_quality computes them. Not a test.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench_quality import Benchmark, TimedEmbedder, ask, benchmarks, row_metrics

from core.settings import PROJECT_ROOT
from knowledge import KnowledgeBase

#: The rows whose FAQ keeps its alternatives, as an operator's grown FAQ does.
FAQS = ("hint3_sofmattress", "hint3_curekart", "hint3_powerplay11", "xsid", "sample_faq")
FIGURES = ("mcc", "answer_accuracy", "wrong_answer_rate", "oos_recall", "clarify_rate")


def split_run(benchmark: Benchmark, embedder: TimedEmbedder, seed: int) -> dict[str, Any]:
    """The figures of the interim and of the live FAQ's own calibration, for one split."""
    ids = sorted(entry.id for entry in benchmark.faq)
    random.Random(seed).shuffle(ids)
    in_files = set(ids[: len(ids) // 2])
    with tempfile.TemporaryDirectory(prefix="helpdesk-loop-") as folder:
        files = KnowledgeBase(
            [entry for entry in benchmark.faq if entry.id in in_files], embedder, Path(folder)
        )
        files.warm_up(progress=False)
        interim = files.sibling(
            benchmark.faq, Path(folder) / "live", replace(files.calibration, off_topic=None)
        )
        interim.warm_up(progress=False)
        own = interim.with_own_calibration()
        return {
            label: row_metrics([ask(kb, question) for question in benchmark.questions])
            for label, kb in (("files' policy", interim), ("own calibration", own))
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=PROJECT_ROOT.parent / "shared" / "eval")
    parser.add_argument("--only", nargs="*", default=list(FAQS))
    parser.add_argument("--splits", type=int, default=2)
    args = parser.parse_args(argv)
    embedder = TimedEmbedder(
        "packaged:multilingual-e5-small", cross_lingual="packaged:use-multilingual-v3"
    )
    print("faq | split | policy | " + " | ".join(FIGURES))
    print("|".join("---" for _ in range(3 + len(FIGURES))))
    for benchmark in benchmarks(args.eval_dir):
        if benchmark.name not in args.only:
            continue
        for seed in range(args.splits):
            for label, figures in split_run(benchmark, embedder, seed).items():
                values = " | ".join(f"{figures.get(name) or 0:.3f}" for name in FIGURES)
                print(f"{benchmark.name} | {seed} | {label} | {values}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
