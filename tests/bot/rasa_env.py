"""Running a check inside the Rasa 3.6 environment (Python 3.10), where bot/ runs."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.conftest import PROJECT_ROOT

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"


def run_in_rasa(script: str, *args: str) -> str:
    """``script``'s standard output, run by the Rasa environment's Python from the project
    root; the test is skipped where that environment is not installed."""
    if not RASA_PYTHON.exists():
        pytest.skip("the Rasa environment is not installed (scripts/setup.sh makes it)")
    result = subprocess.run(
        [str(RASA_PYTHON), "-c", script, *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(PROJECT_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def last_json_line(script: str, *args: str) -> Any:
    """The JSON document ``script`` prints last (Rasa may print before it)."""
    return json.loads(run_in_rasa(script, *args).strip().splitlines()[-1])
