"""Word lists that decide a move the NLU alone gets wrong (actions/lexicon.yml).

The NLU learns intents from a few examples per language and is sure of itself on messages
it never saw ("can I exchange these shoes?" as a request for a person, "order 48213" as a
ticket number). A word the move cannot do without checks it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
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
    WHEN = "when"
    NUMBER = "number"


#: Words allowed between the two words of one phrase: an auxiliary or a pronoun ("still it
#: does not", "n'est toujours pas"); in all 8 languages "still" and its negation stand
#: together.
PHRASE_GAP = 2
#: What ends a clause: a word of one clause says nothing about a word of the next.
CLAUSE_BREAK = re.compile(r"[,;:.!?¿¡\n]+")

#: A number as long as an identifier (knowledge.tuning), "#" or "№" in front allowed.
ORDER_NUMBER = re.compile(rf"[#№]?\b(\d{{{IDENTIFIER_MIN_DIGITS},20}})\b")


def mentions(concept: Concept, text: str) -> bool:
    """Whether ``text`` names the concept in any supported language."""
    words = plain_words(text)
    return any(_matches(pattern, words) for pattern in _patterns(concept))


def names_a_person(text: str) -> bool:
    """Whether ``text`` names a person other than in a headcount: "a table for 4 people" and
    "voor tien mensen" count people, they ask for nobody."""
    words = plain_words(text)
    after_a_number = {i + 1 for i, word in enumerate(words) if word.isdigit()}
    after_a_number |= {
        end for pattern in _patterns(Concept.NUMBER) for _, end in _spans(pattern, words)
    }
    return any(
        start not in after_a_number
        for pattern in _patterns(Concept.PERSON)
        for start, _ in _spans(pattern, words)
    )


def mentions_together(first: Concept, second: Concept, text: str) -> bool:
    """Whether a word of each concept stands in one phrase of ``text``: the same clause, at
    most PHRASE_GAP words apart ("still doesn't work", "ne marche toujours pas"), not
    merely somewhere in the message ("I don't have an account, can I still order?")."""
    for clause in CLAUSE_BREAK.split(text):
        words = plain_words(clause)
        firsts = [span for pattern in _patterns(first) for span in _spans(pattern, words)]
        seconds = [span for pattern in _patterns(second) for span in _spans(pattern, words)]
        if any(_gap(a, b) <= PHRASE_GAP for a in firsts for b in seconds):
            return True
    return False


def a_clause_opens_with(concept: Concept, text: str) -> bool:
    """Whether a clause of ``text`` starts with a word of the concept ("hi, when are you
    open?"): where a question word stands in all 8 languages."""
    return any(opens_with(concept, clause) for clause in CLAUSE_BREAK.split(text))


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
    return next(_spans(pattern, words), None) is not None


def _spans(pattern: tuple[str, ...], words: list[str]) -> Iterator[tuple[int, int]]:
    """Where ``pattern`` occurs in ``words``: (first word, one past the last) of each."""
    size = len(pattern)
    *whole, last = pattern
    for start in range(len(words) - size + 1):
        window = words[start : start + size]
        if window[:-1] == whole and (
            window[-1].startswith(last[:-1]) if last.endswith("*") else window[-1] == last
        ):
            yield start, start + size


def _gap(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Words between two spans (0 when they touch or overlap)."""
    return max(0, max(a[0], b[0]) - min(a[1], b[1]))


@lru_cache
def _patterns(concept: Concept) -> tuple[tuple[str, ...], ...]:
    loaded = yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8"))
    return tuple(_pattern(entry) for entries in loaded[concept.value].values() for entry in entries)


def _pattern(entry: str) -> tuple[str, ...]:
    *whole, last = plain_words(entry)
    return (*whole, f"{last}*" if entry.endswith("*") else last)
