"""The conversation's language: short messages, stickiness, switching, hints."""

from __future__ import annotations

from dataclasses import replace

import pytest

from knowledge.language import DetectedLanguage, LanguageIdentifier, load_common_words
from knowledge.loader import load_faq
from knowledge.models import FaqEntry
from knowledge.tuning import FOREIGN_LETTER_WORDS_SHARE
from tests.conftest import PROJECT_ROOT

ENGLISH = DetectedLanguage("en", 0.9)


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier(load_faq(PROJECT_ROOT / "knowledge" / "faq"), default="en")


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("factuur", "nl"),
        ("wachtwoord vergeten", "nl"),
        ("Rechnung", "de"),
        ("τιμολόγιο", "el"),
        ("забыл пароль", "ru"),
        ("olvidé contraseña", "es"),
    ],
)
def test_short_message_language_uses_the_faqs_vocabulary(
    identifier: LanguageIdentifier, text: str, lang: str
) -> None:
    assert identifier.detect(text).lang == lang


@pytest.mark.parametrize(
    ("text", "lang"),
    [("danke", "de"), ("merci", "fr"), ("bedankt", "nl"), ("obrigado", "pt"), ("gracias", "es")],
)
def test_a_first_message_of_thanks_or_greeting_is_known_by_its_common_words(
    identifier: LanguageIdentifier, text: str, lang: str
) -> None:
    """langdetect alone calls "danke" and "bedankt" English: too little text for it."""
    assert identifier.detect(text).lang == lang


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("danke schön", "de"),
        ("Wie viel kostet der Versand nach Österreich?", "de"),
        ("combien coûte la livraison", "fr"),
        ("¿cuánto cuesta el envío?", "es"),
        ("Πόσο κοστίζει η αποστολή;", "el"),
    ],
)
def test_every_language_the_bot_speaks_is_known_even_when_the_faq_lacks_it(
    text: str, lang: str
) -> None:
    """An English-only FAQ still gets German fixed responses for a German customer."""
    entries = load_faq(PROJECT_ROOT / "knowledge" / "faq")
    english_only = [replace(e, variants={"en": e.variants["en"]}) for e in entries]
    identifier = LanguageIdentifier(english_only, default="en")
    assert identifier.languages == {"en", "nl", "pt", "el", "ru", "de", "fr", "es"}
    assert identifier.detect(text).lang == lang


@pytest.mark.parametrize(
    "text", ["На грани истерики.", "Это было давно и неправда", "Όλα καλά, ευχαριστώ πολύ"]
)
def test_a_cyrillic_or_greek_sentence_is_never_given_a_latin_script_language(
    identifier: LanguageIdentifier, text: str
) -> None:
    assert not identifier.is_foreign(text)
    assert identifier.detect(text).lang in {"ru", "el"}


@pytest.mark.parametrize(
    "text",
    [
        "dov'è il mio ordine? non è ancora arrivato",
        "注文はどこですか",
        "gdzie jest moje zamówienie",
        "şifremi unuttum",  # two words: only its letters tell
        "zapomniałem hasła",
        "quanto costa la spedizione in Italia",  # langdetect's "it", and Italian words
        "jeg vil gerne returnere en vare",  # langdetect's "no", and Norwegian (nb) words
    ],
)
def test_a_language_the_faq_lacks_gets_the_default_not_a_neighbour(
    identifier: LanguageIdentifier, text: str
) -> None:
    assert identifier.is_foreign(text)
    assert identifier.detect(text) == DetectedLanguage("en", 0.0)
    assert identifier.resolve(text, previous=DetectedLanguage("de", 0.9)).lang == "de"


@pytest.mark.parametrize("text", ["wer singt die Hymne?", "wer malte die Mona Lisa?"])
def test_a_guess_without_a_word_list_does_not_outvote_the_words(
    identifier: LanguageIdentifier, text: str
) -> None:
    """langdetect calls these Afrikaans (≥ 0.9); wordfreq has no Afrikaans list to confirm
    it, and the German list knows every word."""
    assert not identifier.is_foreign(text)
    assert identifier.detect(text).lang == "de"


@pytest.fixture(scope="module")
def english_faq_identifier() -> LanguageIdentifier:
    """An English-only FAQ: German and Dutch are known by their common words alone."""
    entries = load_faq(PROJECT_ROOT / "knowledge" / "faq")
    return LanguageIdentifier(
        [FaqEntry(entry.id, {"en": entry.variants["en"]}) for entry in entries], default="en"
    )


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Regnet es am Samstag?", "de"),  # langdetect: Danish; the word lists: German
        ("Herinner me morgen om de pakketten te bellen", "nl"),  # langdetect: Norwegian
        ("Bel me op dinsdag terug", "nl"),  # langdetect: Afrikaans, which CLDR serves in Dutch
    ],
)
def test_a_wrong_foreign_guess_yields_to_the_words_and_to_cldr(
    english_faq_identifier: LanguageIdentifier, text: str, lang: str
) -> None:
    assert not english_faq_identifier.is_foreign(text)
    assert english_faq_identifier.detect(text).lang == lang


def test_a_language_the_faq_lacks_gets_the_sites_locale_when_it_is_supported(
    identifier: LanguageIdentifier,
) -> None:
    assert identifier.resolve("注文はどこですか", locale="nl-BE").lang == "nl"
    assert identifier.resolve("注文はどこですか", locale="it-IT").lang == "en"


@pytest.mark.parametrize(
    "text",
    [
        "wo ist meine Bestellung",
        "hoe lang duurt de levering",
        "где мой заказ",
        "ok",
        "Hallo, ich bin Łukasz, wo ist meine Bestellung?",  # a foreign name is not enough
        "où est ma commande ? ça fait une semaine",
        "¿dónde está mi pedido? Ñoño",
    ],
)
def test_supported_languages_are_not_taken_for_foreign(
    identifier: LanguageIdentifier, text: str
) -> None:
    assert not identifier.is_foreign(text)


def test_every_supported_language_has_common_words() -> None:
    assert set(load_common_words()) == {"en", "nl", "pt", "el", "ru", "de", "fr", "es"}


@pytest.mark.parametrize("text", ["ok", "спасибо", "merci", "👍", "12345"])
def test_one_word_does_not_flip_an_english_conversation(
    identifier: LanguageIdentifier, text: str
) -> None:
    assert identifier.resolve(text, previous=ENGLISH).lang == "en"


def test_customer_switching_language_with_a_sentence_is_followed(
    identifier: LanguageIdentifier,
) -> None:
    switched = identifier.resolve(
        "hoe lang duurt het voor ik mijn geld terugkrijg", previous=ENGLISH
    )
    assert switched.lang == "nl"
    assert 0 < switched.confidence <= 1


def test_locale_hint_decides_when_the_message_says_nothing(identifier: LanguageIdentifier) -> None:
    assert identifier.resolve("👋", locale="pt-BR").lang == "pt"
    assert identifier.resolve("👋").lang == "en"
    assert identifier.resolve("👋").confidence == 0.0


@pytest.mark.parametrize("text", ["dummy@gmail.com", "FLT10047PNNB", "https://shop.example/o/9A7"])
def test_an_address_link_or_code_says_nothing_of_the_language(
    identifier: LanguageIdentifier, text: str
) -> None:
    """Each had a language of its own letters (HINT3: "dummy@gmail.com" Portuguese)."""
    assert identifier.resolve(text) == DetectedLanguage("en", 0.0)
    german = DetectedLanguage("de", 0.9)
    assert identifier.resolve(f"meine Bestellung {text}", previous=german).lang == "de"


def test_no_public_test_line_of_a_supported_language_has_foreign_letters(
    identifier: LanguageIdentifier,
) -> None:
    folder = PROJECT_ROOT.parent / "shared" / "eval" / "lingua"
    if not folder.is_dir():
        pytest.skip("../shared/eval/lingua is not beside the project")
    lines = [
        line
        for path in folder.rglob("*.txt")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert len(lines) > 2000
    # Two sentences have some: a Turkish name in Dutch, mis-encoded French. Never half.
    shares = [identifier.foreign_letters_share(line) for line in lines]
    assert sum(share > 0 for share in shares) <= 2
    assert max(shares) < FOREIGN_LETTER_WORDS_SHARE


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("wo ist meine Bestellung", "de"),
        ("gastos de envío", "es"),
        ("где заказ", "ru"),
        ("où est ma commande", "fr"),
    ],
)
def test_a_question_of_a_few_words_in_another_language_is_followed(
    identifier: LanguageIdentifier, text: str, lang: str
) -> None:
    assert identifier.resolve(text, previous=ENGLISH).lang == lang


@pytest.mark.parametrize(
    ("text", "lang"), [("paraguas", "es"), ("fiets", "nl"), ("sapatos", "pt"), ("kitchen", "en")]
)
def test_a_word_the_faq_lacks_is_known_by_how_often_each_language_writes_it(
    identifier: LanguageIdentifier, text: str, lang: str
) -> None:
    assert identifier.detect(text).lang == lang


@pytest.mark.parametrize(
    ("text", "lang"), [("Hii", "en"), ("Hellooo", "en"), ("Holaaa", "es"), ("Danke schöööön", "de")]
)
def test_a_stretched_chat_word_is_known_by_the_word_it_stretches(
    identifier: LanguageIdentifier, text: str, lang: str
) -> None:
    """ "Hii" alone was Dutch to langdetect (the greeting's reply came in Dutch)."""
    assert identifier.detect(text).lang == lang


@pytest.mark.parametrize("text", ["kjsdhf lkjqwe", "qsdfg hjklm", "asdkj qwoeiu"])
def test_keyboard_mash_has_no_language(identifier: LanguageIdentifier, text: str) -> None:
    assert identifier.is_unreadable(text)
    assert identifier.detect(text) == DetectedLanguage("en", 0.0)
    german = DetectedLanguage("de", 0.8)
    assert identifier.resolve(text, previous=german) == german


def test_real_words_are_readable_even_unknown_ones(identifier: LanguageIdentifier) -> None:
    for text in ("fietsenmaker", "Donaudampfschifffahrt", "ok", "hoi", "ευχαριστώ", "спасибо"):
        assert not identifier.is_unreadable(text), text


WARM_CHECK = """
import sys
from pathlib import Path

import wordfreq
from knowledge import language
from knowledge.language import LanguageIdentifier
from knowledge.loader import load_faq
identifier = LanguageIdentifier(load_faq(Path(sys.argv[1])), "en")
identifier.warm_up()
loaded = language._full_factory.cache_info().currsize == 1
misses = wordfreq.get_frequency_dict.cache_info().misses
identifier.resolve("hello there, how are you today")
identifier.resolve("wo ist mein Paket")
print(loaded, wordfreq.get_frequency_dict.cache_info().misses - misses)
"""


def test_warm_up_loads_what_the_first_message_would_load() -> None:
    """A fresh process (the tests share one that has long loaded everything): after
    warm_up, langdetect's profiles are in and no word list is read for a message."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", WARM_CHECK, str(PROJECT_ROOT / "knowledge" / "faq")],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
    )
    assert done.stdout.split() == ["True", "0"]
