"""A dialogue policy for the live handoff: while a person owns the conversation, the bot only
relays what the customer says to the ticket (``action_relay_to_agent``) and stays quiet.

Rules cannot express "whatever the intent, while the `handoff` slot is set" without one rule
per intent; a policy can, and it outranks RulePolicy by priority. Messages triggered from
outside (``EXTERNAL_*`` intents: agent replies, status updates) are left to the rules.
Runs inside the Rasa 3.6 environment (Python 3.10).
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

HANDOFF_SLOT = "handoff"
RELAY_ACTION = "action_relay_to_agent"
EXTERNAL_PREFIX = "EXTERNAL_"
#: Above RulePolicy (4): ties at confidence 1.0 go to us.
HANDOFF_POLICY_PRIORITY = 10


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class HandoffPolicy(Policy):
    """Relays every customer message to the agent while the `handoff` slot is true."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"priority": HANDOFF_POLICY_PRIORITY}

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        with self._model_storage.write_to(self._resource):
            pass  # nothing to learn: the behaviour is the rule above
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        action = self._next_action(tracker)
        if action is not None:
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities)

    @staticmethod
    def _next_action(tracker: DialogueStateTracker) -> str | None:
        if not tracker.get_slot(HANDOFF_SLOT):
            return None
        if tracker.latest_action_name == RELAY_ACTION:
            return ACTION_LISTEN_NAME
        intent = tracker.latest_message.intent.get("name") if tracker.latest_message else None
        if tracker.latest_action_name == ACTION_LISTEN_NAME and not str(intent or "").startswith(
            EXTERNAL_PREFIX
        ):
            return RELAY_ACTION
        return None
