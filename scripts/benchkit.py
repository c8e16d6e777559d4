"""Helpers shared by the benchmark scripts in scripts/: a throwaway stack, ports, RSS, report."""

from __future__ import annotations

import socket
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from helpdesk.rasa_project import ensure_trained_model
from helpdesk.settings import Settings, get_settings
from helpdesk.stack import build_stack
from helpdesk.supervisor import ManagedProcess, ProcessGroup


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def throwaway_stack() -> Iterator[tuple[Settings, list[ManagedProcess]]]:
    """Action server, Rasa and API on free loopback ports with a temporary data dir."""
    model = ensure_trained_model(get_settings())
    with tempfile.TemporaryDirectory(prefix="helpdesk-bench-") as data_dir:
        settings = Settings(
            data_dir=Path(data_dir),
            rasa_port=free_port(),
            action_port=free_port(),
            api_port=free_port(),
        )
        group = ProcessGroup()
        processes = build_stack(settings, model)
        try:
            for process in processes:
                group.start(process, timeout=240)
            yield settings, processes
        finally:
            group.stop_all()


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


def print_rss(processes: list[ManagedProcess]) -> None:
    for process in processes:
        if process.pid:
            print(f"RSS {process.name:<14} {rss_mb(process.pid):7.0f} MB")


def report(name: str, latencies: list[float], seconds: float, unit: str = "msg") -> None:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    print(
        f"{name:<24} n={len(latencies):<5} p50={statistics.median(ordered):7.1f} ms  "
        f"p95={p95:7.1f} ms  throughput={len(latencies) / seconds:6.1f} {unit}/s"
    )
