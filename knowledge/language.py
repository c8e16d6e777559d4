"""Language of a customer message, restricted to the languages the FAQ can answer in."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

# langdetect is random by default: the same message could get two languages.
DetectorFactory.seed = 0

_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


@dataclass(frozen=True)
class DetectedLanguage:
    lang: str
    confidence: float


def detect_language(text: str, candidates: Collection[str], default: str) -> DetectedLanguage:
    """The most probable language of ``text`` among ``candidates``, or ``default``.

    Text without letters (emoji, digits, punctuation) gives ``default`` with confidence 0.
    """
    if not _LETTERS.search(text):
        return DetectedLanguage(default, 0.0)
    try:
        ranked = detect_langs(text[:1000])
    except LangDetectException:
        return DetectedLanguage(default, 0.0)
    for guess in ranked:
        lang = _normalise(guess.lang)
        if lang in candidates:
            return DetectedLanguage(lang, float(guess.prob))
    return DetectedLanguage(default, 0.0)


def _normalise(code: str) -> str:
    """langdetect says ``zh-cn``/``zh-tw``; the FAQ uses ISO 639-1 base codes."""
    return code.split("-")[0].lower()
