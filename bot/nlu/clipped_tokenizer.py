"""Whitespace tokens, at most MAX_TOKENS of them.

A pasted 100 kB message once killed the Rasa server: the intent classifier builds a
sequence as long as the message. The first tokens decide a dialogue intent anyway; the
full text still reaches the tracker and the FAQ action.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

MAX_TOKENS = 128


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class ClippedWhitespaceTokenizer(WhitespaceTokenizer):
    """WhitespaceTokenizer that keeps only the first MAX_TOKENS tokens."""

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        return super().tokenize(message, attribute)[:MAX_TOKENS]
