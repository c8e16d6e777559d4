"""The names the bot and the actions share agree: domain.yml, the rules, the handoff policy
and actions/state.py. Rasa would only find a mismatch at run time, in a conversation."""

from __future__ import annotations

import ast
import inspect
import re

import yaml
from rasa_sdk import Action
from rasa_sdk.executor import ActionExecutor

from actions.state import ActionName, Awaiting, Entity, Intent, Question, Slot
from escalation.rasa_client import LAST_DELIVERY_SLOT
from tests.conftest import PROJECT_ROOT

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
RULES = (PROJECT_ROOT / "bot/data/rules.yml").read_text(encoding="utf-8")


def test_slots_are_the_same_in_the_domain_and_the_code() -> None:
    assert set(DOMAIN["slots"]) == set(Slot)


def test_custom_actions_are_the_same_in_the_domain_and_the_action_server() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    registered = set(executor.actions)
    assert set(DOMAIN["actions"]) == set(ActionName) == registered


def test_every_action_class_names_itself_through_action_name() -> None:
    import actions.escalation
    import actions.faq
    import actions.follow_up
    import actions.handoff
    import actions.language
    import actions.request_person
    import actions.yes_no

    modules = (
        actions.escalation,
        actions.faq,
        actions.follow_up,
        actions.handoff,
        actions.language,
        actions.request_person,
        actions.yes_no,
    )
    classes: list[type[Action]] = [
        cls
        for module in modules
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Action) and cls is not Action and cls.__module__ == module.__name__
    ]
    assert len(classes) == len(ActionName)
    assert {cls().name() for cls in classes} == set(ActionName)


def test_entities_and_intents_the_code_reads_are_in_the_domain() -> None:
    assert set(Entity) <= set(DOMAIN["entities"])
    rasas_own = {"nlu_fallback"}  # Rasa adds it to every domain (FallbackClassifier's)
    assert set(Intent) <= set(DOMAIN["intents"]) | rasas_own


def test_the_rules_use_only_actions_the_domain_declares() -> None:
    used = set(re.findall(r"action: (action_[a-z_]+)", RULES))
    assert used and used <= set(ActionName)


def test_the_handoff_policy_names_the_slot_and_the_action_the_code_uses() -> None:
    """bot/policies/handoff.py runs in Rasa's Python and cannot import actions/state.py."""
    tree = ast.parse((PROJECT_ROOT / "bot/policies/handoff.py").read_text(encoding="utf-8"))
    constants = {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
    }
    assert constants["HANDOFF_SLOT"] == Slot.HANDOFF
    assert constants["RELAY_ACTION"] == ActionName.RELAY_TO_AGENT


def test_the_awaiting_question_survives_the_slot_round_trip() -> None:
    asked = Awaiting(Question.ESCALATION_CONFIRM, turn=3, reason="keyword_rule:refund")
    assert asked.as_slot() == {
        "kind": "escalation_confirm",
        "turn": 3,
        "reason": "keyword_rule:refund",
    }
    assert Awaiting.from_slot(asked.as_slot()) == asked
    assert Awaiting.from_slot({"kind": "moon", "turn": 1}) is None
    assert Awaiting.from_slot("escalation_confirm") is None


def test_the_delivery_worker_reads_the_slot_the_delivery_action_sets() -> None:
    """escalation/ does not import actions/: the slot's name is written in both."""
    assert LAST_DELIVERY_SLOT == Slot.LAST_DELIVERY_ID
