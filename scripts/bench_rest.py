"""Benchmark: messages through the Rasa REST channel, sequential and concurrent. Not a test.

Starts its own stack (action server, Rasa, API) on free loopback ports with a throwaway data
dir, then prints p50/p95 latency, messages/s, and the RSS of every process.

    .venv/bin/python scripts/bench_rest.py --messages 200 --concurrency 8
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from helpdesk.rasa_project import ensure_trained_model
from helpdesk.settings import Settings, get_settings
from helpdesk.stack import build_stack
from helpdesk.supervisor import ManagedProcess, ProcessGroup

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            rss = next(line for line in status.splitlines() if line.startswith("VmRSS"))
            total += int(rss.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration):
            continue
    return total / 1024


def send(client: httpx.Client, url: str, sender: str, text: str) -> float:
    started = time.perf_counter()
    response = client.post(url, json={"sender": sender, "message": text}, timeout=60)
    response.raise_for_status()
    if not response.json():
        raise RuntimeError(f"no reply to {text!r}")
    return (time.perf_counter() - started) * 1000


def conversation(url: str, count: int) -> list[float]:
    """``count`` messages, a new conversation every TURNS_PER_CONVERSATION turns."""
    latencies = []
    with httpx.Client() as client:
        for i in range(count):
            if i % TURNS_PER_CONVERSATION == 0:
                sender = uuid.uuid4().hex
            latencies.append(send(client, url, sender, QUESTIONS[i % len(QUESTIONS)]))
    return latencies


def report(name: str, latencies: list[float], seconds: float) -> None:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    print(
        f"{name:<24} n={len(latencies):<5} p50={statistics.median(ordered):7.1f} ms  "
        f"p95={p95:7.1f} ms  throughput={len(latencies) / seconds:6.1f} msg/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    model = ensure_trained_model(get_settings())
    with tempfile.TemporaryDirectory(prefix="helpdesk-bench-") as data_dir:
        settings = Settings(
            data_dir=Path(data_dir),
            rasa_port=free_port(),
            action_port=free_port(),
            api_port=free_port(),
        )
        group = ProcessGroup()
        processes: list[ManagedProcess] = build_stack(settings, model)
        try:
            for process in processes:
                group.start(process, timeout=240)
            url = f"http://{settings.host}:{settings.rasa_port}/webhooks/rest/webhook"
            conversation(url, 16)  # warm-up

            started = time.perf_counter()
            sequential = conversation(url, args.messages)
            report("sequential", sequential, time.perf_counter() - started)

            per_worker = max(1, args.messages // args.concurrency)
            started = time.perf_counter()
            with ThreadPoolExecutor(args.concurrency) as pool:
                results = list(
                    pool.map(lambda _: conversation(url, per_worker), range(args.concurrency))
                )
            concurrent = [latency for result in results for latency in result]
            report(
                f"{args.concurrency} concurrent convs", concurrent, time.perf_counter() - started
            )

            for process in processes:
                if process.pid:
                    print(f"RSS {process.name:<14} {rss_mb(process.pid):7.0f} MB")
        finally:
            group.stop_all()


if __name__ == "__main__":
    main()
