"""An NLU step that keeps small-talk intents to messages that say them.

The classifier learns greet, goodbye, thanks, affirm and deny from a few words per language
and, on character n-grams, gives them to anything short it cannot place: "asdfgh qwerty" came
out as `affirm` (the bot said "Glad I could help"), "Ποιος έγραψε την Οδύσσεια;" as `greet`,
"how many moons does jupiter have" as `goodbye`. A small-talk intent is kept only when the
message has a word of that intent's own training examples (two in a message of more than
three words); otherwise the message goes to the FAQ action, which answers or says it is not
sure. The words are learnt at training time from bot/data, so they follow the training data in
every language. Runs inside the Rasa 3.6 environment (Python 3.10).
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

GUARDED_INTENTS = ("greet", "goodbye", "thanks", "affirm", "deny")
FALLBACK_INTENT = "faq"
VOCABULARY_FILE = "vocabulary.json"
#: Up to this many words, one word of the intent's own is enough ("no", "ok thanks"). A longer
#: message needs two: one can be a function word of a longer example ("have" of "have a nice
#: day", "στην" of "δεν απαντά στην ερώτησή μου") in a question. The same bound as a short
#: yes/no in the actions (actions/yes_no.py MAX_ANSWER_WORDS).
SHORT_MESSAGE_WORDS = 3


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class ChatterGuard(GraphComponent):
    """Sends a small-talk prediction without any of that intent's words to the FAQ."""

    def __init__(
        self,
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: dict[str, set[str]] | None = None,
    ) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary = vocabulary or {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ChatterGuard:
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        vocabulary: dict[str, set[str]] = {intent: set() for intent in GUARDED_INTENTS}
        for example in training_data.intent_examples:
            if example.get(INTENT) in vocabulary:
                vocabulary[example.get(INTENT)].update(plain_words(example.get(TEXT) or ""))
        self.vocabulary = vocabulary
        with self._model_storage.write_to(self._resource) as directory:
            stored = {intent: sorted(words) for intent, words in vocabulary.items()}
            (directory / VOCABULARY_FILE).write_text(json.dumps(stored), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ChatterGuard:
        with model_storage.read_from(resource) as directory:
            stored = json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8"))
        return cls(model_storage, resource, {k: set(v) for k, v in stored.items()})

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = (message.get(INTENT) or {}).get("name")
            if intent in self.vocabulary and not self._says(intent, message.get(TEXT) or ""):
                fallback = {"name": FALLBACK_INTENT, "confidence": 1.0}
                message.set(INTENT, fallback, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [fallback], add_to_output=True)
        return messages

    def _says(self, intent: str, text: str) -> bool:
        """One of the intent's words in a short message, two in a longer one."""
        words = plain_words(text)
        needed = 1 if len(words) <= SHORT_MESSAGE_WORDS else 2
        return len(self.vocabulary[intent] & set(words)) >= needed


def plain_words(text: str) -> list[str]:
    """Lower-case words without accents ("Sí" and "si" are one word)."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.findall(r"[^\W\d_]+", plain)
