"""Rasa's response templates, rendered in the language the action that asked for them names.

Rasa renders a custom action's responses before it applies the action's events, so a
response asked for by the action that also sets the `language` slot (action_answer_faq
resolves the language and answers in one call) came out in the previous turn's language,
or the default one on a first message. Such an action names the language with each response
(``language`` in the response, actions/language.py); anything else is rendered from the
slots as Rasa does. Configured as ``nlg`` in endpoints.yml (helpdesk/rasa_project.py), Rasa's
way to plug in a generator. Runs inside the Rasa 3.6 environment (Python 3.10).
"""

from __future__ import annotations

from typing import Any

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

LANGUAGE_SLOT = "language"


class LanguageNamingGenerator(TemplatedNaturalLanguageGenerator):
    """The domain's responses; a ``language`` given with one overrides the slot's."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, domain: Domain | None = None):
        super().__init__((domain or Domain.empty()).responses)

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        slots = tracker.current_slot_values()
        language = kwargs.get(LANGUAGE_SLOT)
        if isinstance(language, str):
            slots = {**slots, LANGUAGE_SLOT: language}
        return self.generate_from_slots(utter_action, slots, output_channel, **kwargs)
