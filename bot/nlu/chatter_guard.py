"""An NLU step that keeps small-talk intents to messages that say them.

The classifier learns greet, goodbye, thanks, affirm and deny from a few words per language
and, on character n-grams, gives them to anything short it cannot place: "asdfgh qwerty" came
out as `affirm` (the bot said "Glad I could help"), "Ποιος έγραψε την Οδύσσεια;" as `greet`,
"how many moons does jupiter have" as `goodbye`. A small-talk intent is kept only when the
message says it:

- a message of up to three words needs a word of the intent's short examples ("no", "thanks",
  "bye"): "στέλνετε στην Ελβετία;" borrowed "στην" from "δεν απαντά στην ερώτησή μου", and
  "meine Daten exportieren" "meine" from "das beantwortet meine Frage nicht";
- a longer one needs two words of one of its examples: one can be a function word ("have" of
  "have a nice day") in a question, and two from different examples say nothing (HINT3's
  "what have you for gout" was a goodbye on "have" of "have a nice day" and "you" of "see
  you");
- in a short message, only a word the training data uses for that intent more than for all
  others together counts ("you" says neither goodbye nor thanks: HINT3's "You fraud" was a
  goodbye). A longer message keeps every word of the examples: "that didn't help at all" is a
  no on "didn" and "help", which questions use too.

A greeting says nothing else: a longer message kept as `greet` has at most a short message's
worth of words beyond its examples' ("hello there, how are you?", "hello? anyone there?").
More is a question that opens with a greeting: "Добрый день, мой заказ не пришел" ("good
afternoon, my order has not arrived") was greeted and its question left unanswered, as was
xSID's "Hol mir den Trailer von Good Morning Sunshine" on "good morning".

Otherwise the message goes to the FAQ action, which answers or says it is not sure. And an
acknowledgement with a word that is a goodbye on its own ("ok great, bye", "danke, tschüss")
is a goodbye: on "ok" and "great" the classifier said `affirm`, and the bot said "Glad I
could help" to a customer leaving. A word stretched in chat counts as the word it stretches
("Hiii", "thankss", "byeee": the classifier had them right and the guard sent them to the
FAQ). The words are learnt at training time from bot/data, so
they follow the training data in every language. Runs inside the Rasa 3.6 environment
(Python 3.10).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.words import unstretched

GUARDED_INTENTS = ("greet", "goodbye", "thanks", "affirm", "deny")
FALLBACK_INTENT = "faq"
#: The intent that says nothing beyond itself (see the module doc).
GREETING_INTENT = "greet"
CLOSING_INTENT = "goodbye"
#: Intents a goodbye word turns into CLOSING_INTENT.
CLOSED_BY_GOODBYE = ("affirm", "thanks")
VOCABULARY_FILE = "vocabulary.json"
#: A message, or an example, of up to this many words is short (see the module doc). The same
#: bound as a short yes/no in the actions (actions/yes_no.py MAX_ANSWER_WORDS).
SHORT_MESSAGE_WORDS = 3


@dataclass(frozen=True)
class IntentWords:
    """The words that say a small-talk intent: ``whole`` are examples on their own ("bye"),
    ``short`` from its short examples, ``examples`` the words of each example."""

    whole: frozenset[str]
    short: frozenset[str]
    examples: tuple[frozenset[str], ...]

    def said_by(self, words: list[str]) -> bool:
        """One short word in a short message, two of one example in a longer one (``words``
        as :meth:`as_known` gives them)."""
        if len(words) <= SHORT_MESSAGE_WORDS:
            return not self.short.isdisjoint(words)
        return any(len(example.intersection(words)) >= 2 for example in self.examples)

    @cached_property
    def known(self) -> frozenset[str]:
        """Every word of its examples (formed once, on the first message that asks)."""
        return frozenset().union(*self.examples)

    def says_more_than_itself(self, words: list[str]) -> bool:
        """More than a short message's worth of words in none of its examples (``words`` as
        :meth:`as_known` gives them)."""
        return sum(word not in self.known for word in words) > SHORT_MESSAGE_WORDS

    def as_known(self, words: list[str]) -> list[str]:
        """A word its examples lack, stretched in chat ("hiii", "thankss", "byeee"), as the
        word it stretches."""
        return [word if word in self.known else unstretched(word) for word in words]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class ChatterGuard(GraphComponent):
    """Sends a small-talk prediction without any of that intent's words to the FAQ."""

    def __init__(
        self,
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: dict[str, IntentWords] | None = None,
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

    @staticmethod
    def intent_words(training_data: TrainingData) -> dict[str, IntentWords]:
        """Each guarded intent's words, learnt from its examples. The words of its short
        examples are those the training data uses for it more than for every other intent
        together ("you" of "see you" is in "thank you" and in questions too, "d" of
        "d'accord" in "I'd"), so that "You fraud" is no goodbye. (In the class: Rasa's
        training cache fingerprints the class's source, not the module's.)"""
        examples: dict[str, list[list[str]]] = {intent: [] for intent in GUARDED_INTENTS}
        uses: dict[str, Counter[str]] = defaultdict(Counter)  # word -> intent -> examples
        for example in training_data.intent_examples:
            intent, words = example.get(INTENT), plain_words(example.get(TEXT) or "")
            for word in set(words):
                uses[word][intent] += 1
            if intent in examples:
                examples[intent].append(words)

        def says(word: str, intent: str) -> bool:
            return 2 * uses[word][intent] > sum(uses[word].values())

        def words_of(intent: str, longest: int, *, marked: bool = True) -> frozenset[str]:
            return frozenset(
                word
                for words in examples[intent]
                if len(words) <= longest
                for word in words
                if not marked or says(word, intent)
            )

        return {
            intent: IntentWords(
                words_of(intent, 1, marked=False),
                words_of(intent, SHORT_MESSAGE_WORDS),
                tuple(sorted({frozenset(words) for words in examples[intent]}, key=sorted)),
            )
            for intent in examples
        }

    def train(self, training_data: TrainingData) -> Resource:
        self.vocabulary = self.intent_words(training_data)
        with self._model_storage.write_to(self._resource) as directory:
            stored = {
                intent: {
                    "whole": sorted(words.whole),
                    "short": sorted(words.short),
                    "examples": [sorted(example) for example in words.examples],
                }
                for intent, words in self.vocabulary.items()
            }
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
        vocabulary = {
            intent: IntentWords(
                frozenset(words["whole"]),
                frozenset(words["short"]),
                tuple(frozenset(example) for example in words["examples"]),
            )
            for intent, words in stored.items()
        }
        return cls(model_storage, resource, vocabulary)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = (message.get(INTENT) or {}).get("name")
            said = self.vocabulary.get(intent)
            if said is None:
                continue
            typed = plain_words(message.get(TEXT) or "")
            words = said.as_known(typed)
            if not said.said_by(words) or (
                intent == GREETING_INTENT and said.says_more_than_itself(words)
            ):
                _set_intent(message, FALLBACK_INTENT)
            elif intent in CLOSED_BY_GOODBYE and self._says_goodbye(typed):
                _set_intent(message, CLOSING_INTENT)
        return messages

    def _says_goodbye(self, words: list[str]) -> bool:
        closing = self.vocabulary.get(CLOSING_INTENT)
        return closing is not None and not closing.whole.isdisjoint(closing.as_known(words))


def _set_intent(message: Message, intent: str) -> None:
    """``intent`` with full confidence, the only one ranked."""
    chosen = {"name": intent, "confidence": 1.0}
    message.set(INTENT, chosen, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [chosen], add_to_output=True)


def plain_words(text: str) -> list[str]:
    """Lower-case words without accents ("Sí" and "si" are one word)."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.findall(r"[^\W\d_]+", plain)
