"""Escalation triggers are configuration: the keyword rules file and the enabled set."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import PROJECT_ROOT, Settings
from escalation.errors import KeywordRulesError
from escalation.models import Priority
from escalation.triggers import first_match, load_keyword_rules
from tests.conftest import run_cli

SHIPPED_RULES = load_keyword_rules(PROJECT_ROOT / "escalation" / "keyword_rules.yml")


@pytest.mark.parametrize(
    "message",
    [
        "I was charged twice for one order",
        "ik ben twee keer afgeschreven",
        "fui cobrado duas vezes",
        "χρεώθηκα δύο φορές",
        "с меня списали деньги дважды",
        "Ich wurde zweimal abgebucht",
        "j'ai été débité deux fois",
        "me cobraron dos veces",
    ],
)
def test_shipped_double_charge_rule_matches_every_supported_language(message: str) -> None:
    rule = first_match(SHIPPED_RULES, message)
    assert rule is not None
    assert (rule.category, rule.priority) == ("billing", Priority.HIGH)


@pytest.mark.parametrize("message", ["how do I pay twice a year?", "where is my order"])
def test_ordinary_questions_match_no_rule(message: str) -> None:
    assert first_match(SHIPPED_RULES, message) is None


def test_a_broken_rule_is_named_in_the_error(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text("rules:\n  - name: broken\n    patterns: ['(unclosed']\n", encoding="utf-8")
    with pytest.raises(KeywordRulesError, match="broken"):
        load_keyword_rules(rules)


def test_a_missing_rules_file_means_no_rules(tmp_path: Path) -> None:
    assert load_keyword_rules(tmp_path / "absent.yml") == ()


def test_triggers_are_chosen_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_ESCALATION_TRIGGERS", '["customer_request"]')
    monkeypatch.setenv("HELPDESK_FAILED_TURNS_BEFORE_ESCALATION", "3")
    settings = Settings()
    assert settings.escalation_triggers == {"customer_request"}
    assert settings.failed_turns_before_escalation == 3


def test_an_unknown_trigger_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_ESCALATION_TRIGGERS", '["moon_phase"]')
    with pytest.raises(ValidationError, match="moon_phase"):
        Settings()


def test_invalid_settings_are_one_clear_line_from_the_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HELPDESK_ESCALATION_TRIGGERS", '["moon_phase"]')
    assert run_cli("kb", "build") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: invalid settings: HELPDESK_ESCALATION_TRIGGERS")
    assert "moon_phase" in err and "Traceback" not in err
