"""Benchmark: everything scaling out is judged by, in one run, ending in one table. Not a test.

In order, each part printing its own details as it goes (≈ 25 min on 2 cores):

1. the same concurrent REST load on one process of each kind and on ``--replicas`` of each
   behind HAProxy, both on PostgreSQL and Redis (scripts/bench_rest.py --compare-replicas);
2. one conversation of ``--long`` turns on the default stack, paced under the rate limit:
   turns 1-20 against the last 20 (scripts/bench_rest.py --long);
3. FAQ search at ``--sizes`` phrasings, exact against IVF, with recall
   (scripts/bench_scale.py);
4. our FAQ turn against a plain Rasa FAQ bot's, with and without one custom action,
   interleaved (scripts/bench_turn.py).

    .venv/bin/python scripts/bench_scale_out.py
"""

from __future__ import annotations

import argparse
import os

from bench_rest import compare_replicas, long_conversation
from bench_scale import measure
from bench_turn import OURS, PLAIN, PLAIN_WITH_ACTION, compare
from benchkit import p95, throwaway_stack

from core.settings import conversation_secret


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--long", type=int, default=200, help="turns of the long conversation")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--turns", type=int, default=300)
    args = parser.parse_args()

    print(f"== 1. one vs {args.replicas} of each process", flush=True)
    loads = compare_replicas(args.replicas, args.messages, args.concurrency)
    print(f"== 2. a conversation of {args.long} turns", flush=True)
    with throwaway_stack() as (settings, _):
        url = f"http://{settings.host}:{settings.rasa_port}/webhooks/rest/webhook"
        first, last = long_conversation(url, args.long, conversation_secret(settings))
    print("== 3. FAQ search as the FAQ grows", flush=True)
    sizes = measure(args.sizes)
    print("== 4. our FAQ turn against a plain Rasa FAQ bot's", flush=True)
    turns = compare(args.turns)
    ours, plain, with_action = turns[OURS], turns[PLAIN], turns[PLAIN_WITH_ACTION]

    print(f"\n| what | figures (one run, {os.cpu_count()} cores) |\n|---|---|")
    one, many = loads[0], loads[-1]
    for load in loads:
        print(
            f"| {load.replicas} of each process, {args.concurrency} concurrent conversations | "
            f"{load.per_second:.1f} msg/s, p50 {load.p50_ms:.0f} ms, p95 {load.p95_ms:.0f} ms, "
            f"{load.cores_busy:.2f} cores busy in the stack, {load.machine_busy:.2f} machine-wide |"
        )
    print(f"| throughput {many.replicas} / 1 | {many.per_second / one.per_second:.2f}× |")
    print(
        f"| turn p95, turns 1-20 → {args.long - 19}-{args.long} of one conversation | "
        f"{first:.0f} → {last:.0f} ms ({last / first:.2f}×) |"
    )
    for size in sizes:
        print(
            f"| FAQ search p95 at {size.size} phrasings (bot uses {size.picked}) | "
            f"exact {size.flat_p95:.2f} ms, IVF {size.ivf_p95:.2f} ms, recall@5 "
            f"{size.recall_phrasings:.3f} / {size.recall_entries:.3f} (phrasings / entries); "
            f"lexical {size.lexical_p95:.1f} ms |"
        )
    print(
        f"| FAQ turn p95, plain Rasa → ours | {p95(plain):.0f} → {p95(ours):.0f} ms "
        f"({p95(ours) / p95(plain):.2f}×) |"
    )
    print(
        f"| FAQ turn p95, plain Rasa → plain Rasa with one custom action | {p95(plain):.0f} → "
        f"{p95(with_action):.0f} ms ({p95(with_action) / p95(plain):.2f}×) |"
    )


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
