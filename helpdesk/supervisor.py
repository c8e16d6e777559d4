"""Starting, health-checking, restarting and stopping the processes of one helpdesk run.

A child that dies is started again with a growing delay (1 s, 2 s, 4 s, … up to a minute;
back to 1 s once it has run a minute), while the others keep serving: a crash of the API
must not take the bot down, nor the other way round.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import psutil

from core.errors import HelpdeskError

logger = logging.getLogger(__name__)

#: Back-off of restarts: the first delay, doubled on each quick death up to the maximum;
#: a process that ran RESTART_STABLE_AFTER seconds starts over at the first delay.
RESTART_FIRST_DELAY = 1.0
RESTART_MAX_DELAY = 60.0
RESTART_STABLE_AFTER = 60.0
#: Whatever a child writes (databases, trackers, logs, indexes) is readable by its owner only:
#: transcripts hold customers' words.
PRIVATE_UMASK = 0o077
#: Where Linux says which ports outgoing connections get; servers' ports are picked below it,
#: from SERVER_PORTS_FROM, at most PORT_PICKS times.
EPHEMERAL_PORTS = Path("/proc/sys/net/ipv4/ip_local_port_range")
SERVER_PORTS_FROM = 10_000
PORT_PICKS = 1_000
_random = random.SystemRandom()


class StartupError(HelpdeskError):
    """A process exited or never became healthy; the message points at its log."""


@dataclass
class ManagedProcess:
    """A child process in its own process group, logging to a file, with a health URL."""

    name: str
    command: Sequence[str]
    #: Healthy once this answers below 500 (an HTTP service), or once ``ready`` says so.
    health_url: str | None
    log_path: Path
    env: dict[str, str] | None = None
    cwd: Path | None = None
    ready: Callable[[], bool] | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)
    restarts: int = field(default=0, init=False)
    _started_at: float = field(default=0.0, init=False, repr=False)
    _exited_at: float | None = field(default=None, init=False, repr=False)
    _delay: float = field(default=0.0, init=False, repr=False)

    def start(self) -> None:
        self.log_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self._log is not None:
            self._log.close()
        descriptor = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._log = os.fdopen(descriptor, "ab")
        self._started_at, self._exited_at = time.monotonic(), None
        self._process = subprocess.Popen(
            list(self.command),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,  # Ctrl-C reaches us only; we stop children in order.
            umask=PRIVATE_UMASK,
        )

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def restart_if_due(self, now: float) -> bool:
        """Start a dead process again once its back-off delay has passed; True if started."""
        if self.running():
            return False
        if self._exited_at is None:
            ran = now - self._started_at
            self._exited_at = now
            self._delay = (
                RESTART_FIRST_DELAY
                if ran >= RESTART_STABLE_AFTER
                else min(RESTART_MAX_DELAY, max(RESTART_FIRST_DELAY, self._delay * 2))
            )
            code = self._process.returncode if self._process else None
            logger.warning(
                "%s exited (code %s) after %.0f s; restarting in %.0f s (see %s)",
                self.name, code, ran, self._delay, self.log_path,
            )  # fmt: skip
        if now - self._exited_at < self._delay:
            return False
        self.restarts += 1
        self.start()
        return True

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise StartupError(f"{self.name} exited during start-up; see {self.log_path}")
            if self.is_healthy():
                return
            time.sleep(0.5)
        raise StartupError(f"{self.name} not healthy after {timeout:.0f}s; see {self.log_path}")

    def is_healthy(self) -> bool:
        if self.ready is not None:
            return self.ready()
        assert self.health_url is not None
        try:
            return httpx.get(self.health_url, timeout=2.0).status_code < 500
        except httpx.HTTPError:
            return False

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


def check_ports_free(host: str, ports: dict[str, int]) -> None:
    """Refuse to start on a taken port, naming the port and who holds it.

    Checked before anything starts: a second `helpdesk run` once printed the banner (the
    first instance answered its health checks) and then died on the busy port.
    """
    for service, port in ports.items():
        if not port_is_free(host, port):
            raise StartupError(
                f"port {port} ({service}) on {host} is taken by {port_holder(port)}: "
                f"stop it, or choose another port (HELPDESK_{service.upper()}_PORT)"
            )


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now, for a server about to start on it."""
    return free_port_block(0, host)


def free_port_block(count: int, host: str = "127.0.0.1") -> int:
    """A free port with ``count`` free ports above it (for replicas, see helpdesk/balancer.py).

    Picked at random below the kernel's range for outgoing connections: a port from that range
    (the system's pick for a bind to port 0) can become the local end of some client's
    connection before the server binds it, and the server fails with "address already in use"
    (a replica test's action server did, 2026-12-06)."""
    below = _ephemeral_ports_start()
    for _ in range(PORT_PICKS):
        port = _random.randrange(SERVER_PORTS_FROM, below - count)
        if all(port_is_free(host, port + index) for index in range(count + 1)):
            return port
    raise StartupError(f"no {count + 1} free ports in a row below {below} on {host}")


def _ephemeral_ports_start(default: int = 32768) -> int:
    """The first port the kernel hands to outgoing connections (Linux's default elsewhere)."""
    try:
        return int(EPHEMERAL_PORTS.read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return default


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def port_holder(port: int) -> str:
    """The process listening on ``port``, as "pid 123 (uvicorn …)", if this user may see it."""
    try:
        listeners = [
            c.pid
            for c in psutil.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid
        ]
        if listeners:
            process = psutil.Process(listeners[0])
            command = " ".join(process.cmdline())[:120] or process.name()
            return f"pid {process.pid} ({command})"
    except (psutil.Error, OSError):
        pass
    return "another process"


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

    def keep_alive(self) -> list[ManagedProcess]:
        """Restart every dead process whose delay has passed; the ones restarted."""
        now = time.monotonic()
        return [process for process in self.processes if process.restart_if_due(now)]

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
