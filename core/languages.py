"""Language codes as the bot uses them: a language, not a region or a script.

The bot tells languages apart (its responses, its language identification and the FAQ's
variants are per language): an operator's export tagged "en-US" or "pt_BR", a widget's
"nl-BE" and langdetect's "zh-cn" all name the language the bot knows as "en", "pt", "nl" or
"zh". langcodes (CLDR's data) reads the tag, so three-letter and deprecated codes ("por",
"iw") land on the same language too.
"""

from __future__ import annotations

import re

import langcodes
from langcodes.tag_parser import LanguageTagError

#: What ends the tag in a locale string: "pt_BR.UTF-8", "en-US,en;q=0.9".
_TAG_END = re.compile(r"[.,;@\s]")


def base_language(code: str) -> str | None:
    """The language of a BCP 47 tag or a POSIX locale ("pt-BR", "pt_BR.UTF-8", "PT",
    "por" -> "pt"); None when ``code`` names no language."""
    tag = _TAG_END.split(code.strip(), maxsplit=1)[0].replace("_", "-")
    if not tag:
        return None
    try:
        language = langcodes.Language.get(tag).language
    except LanguageTagError:
        return None
    return language if language and language.isalpha() and 2 <= len(language) <= 3 else None
