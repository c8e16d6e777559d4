"""Word lists that decide a move the NLU alone gets wrong (actions/lexicon.yml).

The NLU learns intents from a few examples per language and is sure of itself on messages
it never saw ("can I exchange these shoes?" as a request for a person, "order 48213" as a
ticket number). A word the move cannot do without checks it.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import yaml

from knowledge.tuning import IDENTIFIER_MIN_DIGITS

LEXICON_FILE = Path(__file__).resolve().with_name("lexicon.yml")


class Concept(StrEnum):
    TICKET = "ticket"
    PERSON = "person"
    ORDER = "order"
    YES = "yes"
    NO = "no"
    STILL = "still"
    NOT = "not"


#: A number as long as an identifier (knowledge.tuning), "#" or "№" in front allowed.
ORDER_NUMBER = re.compile(rf"[#№]?\b(\d{{{IDENTIFIER_MIN_DIGITS},20}})\b")


def mentions(concept: Concept, text: str) -> bool:
    """Whether ``text`` names the concept in any supported language."""
    words = plain_words(text)
    return any(_matches(pattern, words) for pattern in _patterns(concept))


def opens_with(concept: Concept, text: str) -> bool:
    """Whether ``text`` starts with a word of the concept ("όχι ευχαριστώ": no)."""
    words = plain_words(text)
    return any(_matches(pattern, words[: len(pattern)]) for pattern in _patterns(concept))


def order_number_in(text: str) -> str | None:
    """The order number in ``text``: a long number in a message that speaks of an order."""
    found = ORDER_NUMBER.search(text)
    return found.group(1) if found and mentions(Concept.ORDER, text) else None


def plain_words(text: str) -> list[str]:
    """Lower-case words without accents: "Αιτήματός" and "αιτηματος" are the same word."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.findall(r"[^\W_]+", plain)


def _matches(pattern: tuple[str, ...], words: list[str]) -> bool:
    """``pattern`` (words; a last one ending in * is a prefix) occurs in ``words``."""
    size = len(pattern)
    for start in range(len(words) - size + 1):
        window = words[start : start + size]
        *whole, last = pattern
        if window[:-1] == whole and (
            window[-1].startswith(last[:-1]) if last.endswith("*") else window[-1] == last
        ):
            return True
    return False


@lru_cache
def _patterns(concept: Concept) -> tuple[tuple[str, ...], ...]:
    loaded = yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8"))
    return tuple(_pattern(entry) for entries in loaded[concept.value].values() for entry in entries)


def _pattern(entry: str) -> tuple[str, ...]:
    *whole, last = plain_words(entry)
    return (*whole, f"{last}*" if entry.endswith("*") else last)
