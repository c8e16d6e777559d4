"""What the benchmark scripts share: a throwaway stack, ports, RSS, a socket.io customer, report.

Imported by the scripts beside it (``python scripts/bench_*.py`` puts scripts/ on the path);
nothing in the product or the tests imports it.
"""

from __future__ import annotations

import os
import queue
import secrets
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import socketio
from pydantic import SecretStr

from core.settings import Settings, get_settings
from helpdesk import services
from helpdesk.rasa_project import ensure_trained_model
from helpdesk.stack import build_stack
from helpdesk.supervisor import ManagedProcess, ProcessGroup, free_port, free_port_block


@contextmanager
def throwaway_stack(
    replicas: int = 1, shared: bool = False, faq_path: Path | None = None
) -> Iterator[tuple[Settings, list[ManagedProcess]]]:
    """Action server, Rasa and API on free loopback ports with a temporary data dir.

    ``replicas`` > 1 runs that many of each behind HAProxy; they and ``shared`` put tickets,
    Rasa's tracker store and its lock store on PostgreSQL and Redis started for the run
    (Debian's packages, helpdesk/services.py). ``faq_path``: another FAQ than the sample."""
    model = ensure_trained_model(get_settings())
    with tempfile.TemporaryDirectory(prefix="helpdesk-bench-") as data_dir:
        group = ProcessGroup()
        try:
            settings = Settings(
                data_dir=Path(data_dir),
                rasa_port=free_port_block(replicas),
                action_port=free_port_block(replicas),
                api_port=free_port_block(replicas),
                rasa_api_token=SecretStr(secrets.token_urlsafe(16)),  # the scripts read trackers
            )
            if faq_path is not None:
                settings = settings.model_copy(update={"faq_path": faq_path})
            if replicas > 1 or shared:
                settings = settings.model_copy(update=shared_services(group, Path(data_dir)))
            processes = build_stack(settings, model, replicas)
            for process in processes:
                group.start(process, timeout=240)
            yield settings, processes
        finally:
            group.stop_all()


def shared_services(group: ProcessGroup, data_dir: Path) -> dict[str, str]:
    """PostgreSQL and Redis for one run; the settings that point at them."""
    postgres_dir = Path(tempfile.mkdtemp(prefix="helpdesk-bench-pg-"))  # `postgres` may enter
    if os.geteuid() == 0:
        shutil.chown(postgres_dir, services.POSTGRES_USER, services.POSTGRES_USER)
    postgres_port, redis_port = free_port(), free_port()
    group.start(
        services.postgres_server(
            postgres_dir / "db", postgres_port, log_path=data_dir / "postgres.log"
        ),
        timeout=60,
    )
    redis = services.redis_server(data_dir / "redis", redis_port, log_path=data_dir / "redis.log")
    group.start(redis, timeout=30)
    return {
        "database_url": services.create_database(postgres_port, "helpdesk"),
        "tracker_store_url": services.create_database(postgres_port, "rasa"),
        "redis_url": f"redis://127.0.0.1:{redis_port}/0",
    }


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


def p95(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def report(name: str, latencies: list[float], seconds: float, unit: str = "msg") -> None:
    print(
        f"{name:<24} n={len(latencies):<5} p50={statistics.median(latencies):7.1f} ms  "
        f"p95={p95(latencies):7.1f} ms  throughput={len(latencies) / seconds:6.1f} {unit}/s"
    )


class TimedCustomer:
    """A customer on Rasa's socket.io channel who times how long a reply takes to arrive."""

    def __init__(self, url: str) -> None:
        self._inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        confirmed: queue.Queue[Any] = queue.Queue()
        self._client = socketio.Client(reconnection=False)
        self._client.on("session_confirm", confirmed.put)
        self._client.on("bot_uttered", self._inbox.put)
        self._client.connect(url, transports=["websocket"], wait_timeout=20)
        self._client.emit("session_request", {"session_id": None})
        self._session_id = str(confirmed.get(timeout=20))  # the server issues the id

    def say(self, text: str) -> None:
        self._client.emit("user_uttered", {"message": text, "session_id": self._session_id})

    def wait_for(self, text_part: str, since: float, timeout: float = 60) -> tuple[str, float]:
        """The first message containing ``text_part``, and ms from ``since`` until it came."""
        while True:
            text = self._inbox.get(timeout=timeout).get("text") or ""
            if text_part in text:
                return text, (time.perf_counter() - since) * 1000

    def close(self) -> None:
        self._client.disconnect()
