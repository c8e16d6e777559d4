"""Starting, health-checking and stopping the processes of one helpdesk run."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from core.errors import HelpdeskError

logger = logging.getLogger(__name__)


class StartupError(HelpdeskError):
    """A process exited or never became healthy; the message points at its log."""


@dataclass
class ManagedProcess:
    """A child process in its own process group, logging to a file, with a health URL."""

    name: str
    command: Sequence[str]
    health_url: str
    log_path: Path
    env: dict[str, str] | None = None
    cwd: Path | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            list(self.command),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,  # Ctrl-C reaches us only; we stop children in order.
        )

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise StartupError(f"{self.name} exited during start-up; see {self.log_path}")
            try:
                if httpx.get(self.health_url, timeout=2.0).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise StartupError(f"{self.name} not healthy after {timeout:.0f}s; see {self.log_path}")

    def kill(self) -> None:
        """Stop at once, no clean-up (SIGKILL): what a crash looks like to everyone else."""
        if self._process is not None and self._process.poll() is None:
            _signal_group(self._process.pid, signal.SIGKILL)
            self._process.wait()

    def stop(self, grace: float = 10.0) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            _signal_group(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(grace)
            except subprocess.TimeoutExpired:
                _signal_group(self._process.pid, signal.SIGKILL)
                self._process.wait()
        if self._log:
            self._log.close()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


class ProcessGroup:
    """Processes started in order and stopped in reverse order."""

    def __init__(self) -> None:
        self.processes: list[ManagedProcess] = []

    def start(self, process: ManagedProcess, *, timeout: float) -> None:
        logger.info("starting %s (log: %s)", process.name, process.log_path)
        self.processes.append(process)
        process.start()
        process.wait_healthy(timeout)

    def first_exited(self) -> ManagedProcess | None:
        return next((p for p in self.processes if not p.running()), None)

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
