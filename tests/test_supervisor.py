"""The supervisor with real child processes: a dead one comes back, with a growing delay,
while the others keep serving; what children write is private."""

from __future__ import annotations

import os
import socket
import stat
import sys
import time
from pathlib import Path

import pytest

from helpdesk import supervisor
from helpdesk.supervisor import ManagedProcess, ProcessGroup, free_port


def http_server(tmp_path: Path, name: str) -> ManagedProcess:
    port = free_port()
    return ManagedProcess(
        name=name,
        command=[sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        health_url=f"http://127.0.0.1:{port}/",
        log_path=tmp_path / "logs" / f"{name}.log",
        cwd=tmp_path,
    )


def test_a_killed_process_is_restarted_while_the_others_keep_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervisor, "RESTART_FIRST_DELAY", 0.2)
    group = ProcessGroup()
    first, second = http_server(tmp_path, "first"), http_server(tmp_path, "second")
    try:
        group.start(first, timeout=30)
        group.start(second, timeout=30)
        first.kill()  # a crash: SIGKILL to its process group
        assert second.is_healthy()
        deadline = time.monotonic() + 30
        while first.restarts == 0 and time.monotonic() < deadline:
            group.keep_alive()
            time.sleep(0.05)
        assert first.restarts == 1 and second.restarts == 0
        first.wait_healthy(30)
        assert first.is_healthy()
    finally:
        group.stop_all()


def test_a_process_that_keeps_dying_waits_longer_each_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervisor, "RESTART_FIRST_DELAY", 1.0)
    dying = ManagedProcess(
        name="dying",
        command=[sys.executable, "-c", "raise SystemExit(3)"],
        health_url="http://127.0.0.1:9/",
        log_path=tmp_path / "dying.log",
    )
    dying.start()
    waits = []
    for _ in range(3):
        while dying.running():
            time.sleep(0.02)
        died = time.monotonic()
        assert not dying.restart_if_due(died)  # too early
        delay = next(d for d in (1.0, 2.0, 4.0, 8.0) if dying.restart_if_due(died + d))
        waits.append(delay)
    assert waits == [1.0, 2.0, 4.0]
    assert dying.restarts == 3
    dying.stop()


def test_what_a_child_writes_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    writer = ManagedProcess(
        name="writer",
        command=[sys.executable, "-c", "open('transcript.db', 'w').write('private')"],
        health_url="http://127.0.0.1:9/",
        log_path=tmp_path / "logs" / "writer.log",
        cwd=tmp_path,
    )
    writer.start()
    while writer.running():
        time.sleep(0.02)
    writer.stop()
    for path in (tmp_path / "transcript.db", writer.log_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(writer.log_path.parent.stat().st_mode) == 0o700


def test_run_refuses_a_taken_port_naming_it_and_its_holder_before_any_banner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.settings import get_settings
    from helpdesk import cli

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        monkeypatch.setenv("HELPDESK_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("HELPDESK_API_PORT", str(taken))
        monkeypatch.setenv("HELPDESK_RASA_PORT", str(free_port()))
        monkeypatch.setenv("HELPDESK_ACTION_PORT", str(free_port()))
        get_settings.cache_clear()
        try:
            assert cli.main(["run"]) == 1
        finally:
            get_settings.cache_clear()
    out, err = capsys.readouterr()
    assert f"port {taken} (api) on 127.0.0.1 is taken by pid {os.getpid()}" in err
    assert "HELPDESK_API_PORT" in err
    assert "running" not in out
    assert not (tmp_path / "index").exists(), "refused before any work"


def test_server_ports_are_picked_below_the_ports_outgoing_connections_get(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A port from the kernel's range for outgoing connections can become some client's local
    end before the server binds it ("address already in use"): servers get ports below it."""
    ranges = tmp_path / "ip_local_port_range"
    ranges.write_text("20000\t60999\n", encoding="ascii")
    monkeypatch.setattr(supervisor, "EPHEMERAL_PORTS", ranges)
    for _ in range(50):
        assert supervisor.SERVER_PORTS_FROM <= free_port() < 20000
    first = supervisor.free_port_block(2)
    assert first + 2 < 20000
    for port in range(first, first + 3):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("127.0.0.1", port))  # free, as the servers bind
