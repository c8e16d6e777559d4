"""An NLU step for messages the intent classifier cannot read.

Three kinds: messages with no words (empty, emoji only, digits only), messages none of
whose words or character n-grams occur in the training data ("注文はどこですか"), and
messages over core/limits.py's MAX_MESSAGE_CHARS (the FAQ action asks for a shorter one;
10,000 × "x" once came out as `affirm`). The
classifier, fed an all-zero feature vector, still names an intent for them ("" came out as
`affirm`, the Japanese as `thanks`). There is no dialogue intent to find in either, so we
hand the message to the FAQ action, which answers or says it is not sure, in the
conversation's language. Runs inside the Rasa 3.6 environment (Python 3.10).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from core.limits import MAX_MESSAGE_CHARS

FALLBACK_INTENT = "faq"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class NoWordsClassifier(GraphComponent):
    """Overrides the intent of unreadable messages with the FAQ intent."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> NoWordsClassifier:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if (
                len(text) > MAX_MESSAGE_CHARS
                or not any(character.isalpha() for character in text)
                or _nothing_known(message)
            ):
                intent = {"name": FALLBACK_INTENT, "confidence": 1.0}
                message.set(INTENT, intent, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
        return messages


def _nothing_known(message: Message) -> bool:
    """Whether the featurizers found no known word or n-gram: every sparse feature is zero.
    (Read one by one: ``get_sparse_features`` stacks them all first, a millisecond a turn.)"""
    found = [f for f in message.features if f.attribute == TEXT and f.is_sparse()]
    return bool(found) and all(f.features.nnz == 0 for f in found)
