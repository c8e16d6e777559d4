"""The floors of the house (docs/architecture.md): no import runs back up a floor.

Read from the source with ``ast``, lazy imports inside functions included, so a shortcut
taken anywhere fails here rather than in a later refactoring.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.limits import MAX_MESSAGE_CHARS
from tests.bot.rasa_env import run_in_rasa
from tests.conftest import PROJECT_ROOT

#: Lower floors first; a package may import its own floor's siblings only where listed.
FLOORS = {
    "core": 0,
    "knowledge": 1,
    "escalation": 1,
    "actions": 2,
    "helpdesk": 3,
}
#: Packages on the same floor that must not know each other.
STRANGERS = {("knowledge", "escalation"), ("escalation", "knowledge")}
OURS = {*FLOORS, "bot", "scripts", "tests"}


def imported_packages(path: Path) -> set[str]:
    """The top-level packages of ours that ``path`` imports, anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
    return found & OURS


def sources(package: str) -> list[Path]:
    return sorted((PROJECT_ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FLOORS))
def test_no_import_runs_up_a_floor(package: str) -> None:
    wrong = {
        f"{path.relative_to(PROJECT_ROOT)} imports {imported}"
        for path in sources(package)
        for imported in imported_packages(path)
        if imported != package
        and (
            imported not in FLOORS
            or FLOORS[imported] >= FLOORS[package]
            or (package, imported) in STRANGERS
        )
    }
    assert not wrong


def test_the_ground_floor_imports_nothing_of_ours() -> None:
    assert all(imported_packages(path) <= {"core"} for path in sources("core"))


def test_the_rasa_side_and_the_scripts_keep_to_themselves() -> None:
    """bot/ runs in Rasa's own Python 3.10: of ours, besides bot/ itself, it may import only
    core/limits.py, core/identity.py and core/words.py, which are written for it. Scripts use
    the product, never test code."""
    shared = {"core.limits", "core.identity", "core.words"}
    for path in sources("bot"):
        assert {m for m in imported_modules(path) if not m.startswith("bot.")} <= shared, path
    assert all("tests" not in imported_packages(path) for path in sources("scripts"))


def test_what_the_rasa_side_reads_of_core_imports_in_its_python() -> None:
    check = "import core.identity, core.limits, core.words; print(core.limits.MAX_MESSAGE_CHARS)"
    assert int(run_in_rasa(check)) == MAX_MESSAGE_CHARS


def imported_modules(path: Path) -> set[str]:
    """The modules of ours that ``path`` imports by name (``from core.limits import X``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {module for module in found if module.split(".")[0] in OURS}
