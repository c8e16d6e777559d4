"""Benchmark: messages through the Rasa REST channel, sequential and concurrent, and the cost
of a turn late in one long conversation. Not a test.

Starts its own stack (action server, Rasa, API) on free loopback ports with a throwaway data
dir, then prints p50/p95 latency, messages/s, the p95 of turns 1-20 against the last 20 turns
of one conversation (``--long``), and the RSS of every process.

    .venv/bin/python scripts/bench_rest.py --messages 200 --concurrency 8 --long 200

With ``--compare-replicas N`` it instead runs the same concurrent load twice, on one process
of each kind and on N of each behind HAProxy, both on PostgreSQL and Redis started for the
run, and prints throughput, p50/p95 and the CPU the stack's processes used (cores busy).

    .venv/bin/python scripts/bench_rest.py --compare-replicas 2 --messages 400 --concurrency 16
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import psutil
from benchkit import p95, print_rss, report, throwaway_stack

from core.identity import new_conversation_id
from core.settings import conversation_secret
from helpdesk.supervisor import ManagedProcess

QUESTIONS = [
    "I forgot my password",
    "how much does shipping cost",
    "wachtwoord vergeten",
    "Где мой заказ?",
    "je veux retourner un article",
    "what is the meaning of life",
    "hello",
    "can I pay with PayPal",
]
TURNS_PER_CONVERSATION = 10
#: One message every 2 s: a conversation may send 30 a minute (bot/channels/signed.py).
PACE_SECONDS = 2.05


def send(client: httpx.Client, url: str, sender: str, text: str) -> float:
    started = time.perf_counter()
    response = client.post(url, json={"sender": sender, "message": text}, timeout=60)
    response.raise_for_status()
    if not response.json():
        raise RuntimeError(f"no reply to {text!r}")
    return (time.perf_counter() - started) * 1000


def conversation(url: str, count: int, secret: str) -> list[float]:
    """``count`` messages, a new conversation every TURNS_PER_CONVERSATION turns."""
    latencies = []
    with httpx.Client() as client:
        for i in range(count):
            if i % TURNS_PER_CONVERSATION == 0:
                sender = new_conversation_id(secret)
            latencies.append(send(client, url, sender, QUESTIONS[i % len(QUESTIONS)]))
    return latencies


def long_conversation(url: str, turns: int, secret: str) -> tuple[float, float]:
    """One conversation of ``turns`` turns, paced under the rate limit (≈ 7 min for 200):
    are the last 20 as quick as the first 20? Returns both p95s (ms)."""
    sender = new_conversation_id(secret)
    latencies = []
    with httpx.Client() as client:
        for i in range(turns):
            latencies.append(send(client, url, sender, QUESTIONS[i % len(QUESTIONS)]))
            time.sleep(max(0.0, PACE_SECONDS - latencies[-1] / 1000))
    first, last = latencies[:20], latencies[-20:]
    report("long conversation, turns 1-20", first, sum(first) / 1000)
    report(f"long conversation, turns {turns - 19}-{turns}", last, sum(last) / 1000)
    print(
        f"  last/first p95: {p95(last) / p95(first):.2f}, "
        f"p50: {statistics.median(last) / statistics.median(first):.2f}"
    )
    slowest = sorted(range(turns), key=lambda i: latencies[i], reverse=True)[:5]
    print("  slowest turns: " + ", ".join(f"#{i + 1} {latencies[i]:.0f} ms" for i in slowest))
    return p95(first), p95(last)


def concurrent_load(
    url: str, secret: str, messages: int, concurrency: int
) -> tuple[list[float], float]:
    """``messages`` turns from ``concurrency`` customers at once; latencies and seconds."""
    per_worker = max(1, messages // concurrency)
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(
            pool.map(lambda _: conversation(url, per_worker, secret), range(concurrency))
        )
    return [latency for result in results for latency in result], time.perf_counter() - started


def cpu_seconds(processes: list[ManagedProcess]) -> float:
    """CPU time used so far by the processes and their children."""
    total = 0.0
    for process in processes:
        if process.pid is None:
            continue
        try:
            root = psutil.Process(process.pid)
            for member in [root, *root.children(recursive=True)]:
                times = member.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total


def busy_seconds() -> tuple[float, float]:
    """CPU time used so far by the whole machine (all cores) and by this process (the
    customers' threads): what the stack's own figure leaves out (PostgreSQL, Redis,
    HAProxy, the load generator)."""
    machine = psutil.cpu_times()
    client = psutil.Process().cpu_times()
    idle = machine.idle + getattr(machine, "iowait", 0.0)
    return sum(machine) - idle, client.user + client.system


@dataclass(frozen=True)
class LoadFigures:
    """One concurrent load on a stack of ``replicas`` processes of each kind."""

    replicas: int
    per_second: float
    p50_ms: float
    p95_ms: float
    cores_busy: float
    machine_busy: float


def compare_replicas(replicas: int, messages: int, concurrency: int) -> list[LoadFigures]:
    """The same concurrent load on 1 and on ``replicas`` processes of each kind."""
    figures: list[LoadFigures] = []
    for count in (1, replicas):
        with throwaway_stack(replicas=count, shared=True) as (settings, processes):
            url = f"http://{settings.host}:{settings.rasa_port}/webhooks/rest/webhook"
            secret = conversation_secret(settings)
            concurrent_load(url, secret, 4 * concurrency, concurrency)  # warm-up
            cpu_before, (machine_before, client_before) = cpu_seconds(processes), busy_seconds()
            latencies, seconds = concurrent_load(url, secret, messages, concurrency)
            busy = (cpu_seconds(processes) - cpu_before) / seconds
            machine_after, client_after = busy_seconds()
            machine = (machine_after - machine_before) / seconds
            client = (client_after - client_before) / seconds
            report(f"{count} of each, {concurrency} concurrent convs", latencies, seconds)
            print(
                f"  CPU: {busy:.2f} cores busy in the stack, {client:.2f} in the load generator, "
                f"{machine:.2f} on the whole machine (of {os.cpu_count()})"
            )
            figures.append(
                LoadFigures(
                    count,
                    len(latencies) / seconds,
                    statistics.median(latencies),
                    p95(latencies),
                    busy,
                    machine,
                )
            )
    print(
        f"throughput {replicas} replicas / 1: {figures[1].per_second / figures[0].per_second:.2f}"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--long", type=int, default=200, help="turns of the long conversation")
    parser.add_argument("--compare-replicas", type=int, default=0, metavar="N")
    args = parser.parse_args()
    if args.compare_replicas > 1:
        compare_replicas(args.compare_replicas, args.messages, args.concurrency)
        return

    with throwaway_stack() as (settings, processes):
        url = f"http://{settings.host}:{settings.rasa_port}/webhooks/rest/webhook"
        secret = conversation_secret(settings)
        conversation(url, 16, secret)  # warm-up

        started = time.perf_counter()
        sequential = conversation(url, args.messages, secret)
        report("sequential", sequential, time.perf_counter() - started)

        concurrent, seconds = concurrent_load(url, secret, args.messages, args.concurrency)
        report(f"{args.concurrency} concurrent convs", concurrent, seconds)
        if args.long >= 40:
            long_conversation(url, args.long, secret)
        print_rss(processes)


if __name__ == "__main__":
    main()
