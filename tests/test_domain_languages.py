"""Every fixed bot response exists in every supported language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT_ROOT

SUPPORTED = {"en", "nl", "pt", "el", "ru", "de", "fr", "es"}
DEFAULT = "en"
DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


def languages_of(variations: list[dict[str, object]]) -> set[str]:
    found = set()
    for variation in variations:
        conditions = variation.get("condition") or []
        assert isinstance(conditions, list)
        values = [c["value"] for c in conditions if c.get("name") == "language"]
        found.update(values or [DEFAULT])
        assert variation.get("text"), f"empty variation {variation}"
    return found


@pytest.mark.parametrize("name", sorted(DOMAIN["responses"]))
def test_response_has_a_variation_for_every_supported_language(name: str) -> None:
    missing = SUPPORTED - languages_of(DOMAIN["responses"][name])
    assert not missing, f"{name} has no variation for {sorted(missing)}"


def test_every_response_the_code_uses_is_in_the_domain() -> None:
    used = set()
    for path in [*Path(PROJECT_ROOT / "actions").glob("*.py"), PROJECT_ROOT / "bot/data/rules.yml"]:
        text = path.read_text(encoding="utf-8")
        used.update(re.findall(r'(?:response="|action: )(utter_[a-z_]+)', text))
    assert used, "the scan found no responses at all"
    assert used <= set(DOMAIN["responses"]), sorted(used - set(DOMAIN["responses"]))
