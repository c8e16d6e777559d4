"""Words as customers type them in chat, read the same in both environments (bot/'s Rasa
Python 3.10 and ours): nothing but the standard library.
"""

from __future__ import annotations

import re

_STRETCHED = re.compile(r"([^\W\d_])\1{2,}")
_STRETCHED_END = re.compile(r"([^\W\d_])\1+$")


def unstretched(word: str) -> str:
    """``word`` without the repeats of a chat message's stretched letters: a letter three
    times or more in a row, or repeated at the end ("hiii", "hii" -> "hi"; "hellooo" ->
    "hello"; "thankss" -> "thanks"). For a word nothing knows as typed: "tschüss" and "nee"
    are words as they are."""
    return _STRETCHED_END.sub(r"\1", _STRETCHED.sub(r"\1", word))
