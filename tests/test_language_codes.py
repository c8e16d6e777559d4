"""Language codes from FAQ exports, settings and channels name the language the bot answers in."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.languages import base_language
from core.settings import Settings


@pytest.mark.parametrize(
    ("code", "language"),
    [
        ("en", "en"),
        ("en-US", "en"),
        ("pt_BR", "pt"),
        ("pt_BR.UTF-8", "pt"),
        ("nl-BE,nl;q=0.9", "nl"),
        ("EL", "el"),
        ("por", "pt"),
        ("iw", "he"),
        ("sr-Latn-RS", "sr"),
    ],
)
def test_a_tag_or_locale_gives_its_language(code: str, language: str) -> None:
    assert base_language(code) == language


@pytest.mark.parametrize("code", ["", "  ", "english", "123", "und", "x-private", "e"])
def test_what_names_no_language_gives_none(code: str) -> None:
    assert base_language(code) is None


def test_the_default_language_setting_is_a_language() -> None:
    assert Settings(default_language="en-GB").default_language == "en"
    with pytest.raises(ValidationError, match="not a language code: 'english'"):
        Settings(default_language="english")
