"""The crash test (scripts/crash_test.py) in small: a few SIGKILLs of the action server, Rasa
and the API while customers write and an agent answers; nothing lost, nothing doubled.

The long run (200 kills) is by hand; its figures are in the README."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.crash]


def test_kills_under_load_lose_and_double_nothing(rasa_model: object) -> None:
    """``rasa_model``: trained once by the suite, so the script does not train its own."""
    run = subprocess.run(
        [sys.executable, "scripts/crash_test.py", "--kills", "6", "--conversations", "3"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    lines = run.stdout.splitlines()
    assert "crash test: 0 lost, 0 doubled" in lines
    acknowledged = next(line for line in lines if line.startswith("customer messages acknowledged"))
    assert int(acknowledged.split()[-1]) > 0  # the customers really wrote during the kills
    replies = next(line for line in lines if line.startswith("agent replies acknowledged"))
    assert int(replies.split()[-1]) > 0
