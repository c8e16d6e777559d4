"""The language a customer writes in: of one message, and of the conversation.

langdetect alone is unreliable on one- to three-word messages (here 58 % on the shipped short
set). Three more signals help: the script (Greek and Cyrillic letters settle el and ru), the
FAQ's own vocabulary in each language (a customer asking about "verzendkosten" uses the
Dutch FAQ's word), and what is already known about the conversation (its language so far and
the channel's locale), so that "ok" or "спасибо" from an English speaker flips nothing while a
full sentence in another language is followed. Beyond the FAQ, how often each word occurs in
each language (wordfreq's word lists) tells "geld terug" from "gastos de envío" where
langdetect's letter statistics guess.
"""

from __future__ import annotations

import json
import math
import re
import string
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import langcodes
import wordfreq
import yaml
from langdetect import DetectorFactory
from langdetect.detector_factory import PROFILES_DIRECTORY
from langdetect.lang_detect_exception import LangDetectException

from core.languages import base_language
from core.words import unstretched
from knowledge.langdetect_numpy import NumpyDetector
from knowledge.models import FaqEntry
from knowledge.tuning import (
    DEFAULT_WEIGHT,
    FOREIGN_CERTAINTY,
    FOREIGN_LETTER_WORDS_SHARE,
    FOREIGN_MAX_KNOWN_SHARE,
    FOREIGN_MIN_WORDS,
    FULL_EVIDENCE_WORDS,
    LANGDETECT_CHARS,
    LOCALE_WEIGHT,
    PREVIOUS_WEIGHT,
    SCRIPT_WEIGHT,
    VOCABULARY_WEIGHT,
)

# langdetect is random by default: the same message could get two languages.
DetectorFactory.seed = 0

_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
#: E-mail addresses, links and codes of letters and digits (order and product numbers): their
#: letters are no language's (HINT3: "dummy@gmail.com" was Portuguese, "FLT10047PNNB" German).
_IDENTIFIERS = re.compile(r"\S+@\S+|https?://\S+|www\.\S+|\b(?=\w*\d)(?=\w*[^\W\d_])\w+\b")
SCRIPT_LANGUAGES = {"GREEK": "el", "CYRILLIC": "ru"}
#: Scripts the supported languages are written in; text mostly in another is foreign.
KNOWN_SCRIPTS = frozenset({"LATIN", "GREEK", "CYRILLIC"})
COMMON_WORDS_FILE = Path(__file__).resolve().parent / "common_words.yaml"
#: wordfreq's word lists of about 30k–60k words per language: its "large" ones would add
#: 300 MB to the action server for two points on lingua's single words.
WORD_LIST = "small"
#: langcodes' distance below which two codes name one language ("no" and "nb": 1).
SAME_LANGUAGE_DISTANCE = 10
#: The words the unreadable check learns its bar from: each language's most frequent ones
#: longer than three letters (short words have too few letter triples to judge).
READABLE_REFERENCE_WORDS = 5000
#: The share of those words the bar may call unreadable: "xd" and "qsdfg hjklm" are below it.
UNREADABLE_REFERENCE_SHARE = 0.01
#: The Latin letters each language writes beyond a to z (lower case, composed). A word with
#: a Latin letter none of the bot's languages uses (ş, ł, ø, å, ř, ő, ţ) is in another one.
EXTRA_LATIN_LETTERS = {
    "en": "",
    "nl": "áéèëïóöüú",
    "de": "äöüß",
    "fr": "àâæçéèêëîïôœùûüÿ",
    "es": "áéíñóúü",
    "pt": "áâãàçéêíóôõú",
}


@dataclass(frozen=True)
class DetectedLanguage:
    lang: str
    confidence: float


def fold(word: str) -> str:
    """Lower-case and strip accents: customers often type without them."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words_of(text: str) -> list[str]:
    return [fold(word) for word in _WORD.findall(text)]


def _typed_words(text: str) -> tuple[str, ...]:
    """Lower-cased words with their accents: the word lists tell "está" from "esta"."""
    return tuple(word.casefold() for word in _WORD.findall(text[:LANGDETECT_CHARS]))


def load_common_words(path: Path = COMMON_WORDS_FILE) -> dict[str, list[str]]:
    """Each language's most frequent words (``knowledge/common_words.yaml``)."""
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {str(lang): [str(word) for word in words] for lang, words in loaded.items()}


class LanguageIdentifier:
    """Scores the candidate languages of a message from every signal available."""

    def __init__(
        self,
        entries: Iterable[FaqEntry],
        default: str,
        common_words: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.default = default
        vocabulary: dict[str, set[str]] = defaultdict(set)
        for entry in entries:
            for lang, variant in entry.variants.items():
                for text in (*variant.phrasings, variant.answer):
                    vocabulary[lang].update(words_of(text))
        common = load_common_words() if common_words is None else common_words
        # Every language the bot speaks is a candidate, whether the FAQ has it or not: a
        # German customer of an English FAQ still gets German fixed responses.
        for lang in common:
            vocabulary[lang].update(fold(word) for word in common[lang])
        self._vocabulary = dict(vocabulary)
        # A word in several languages ("service", "hotel") says less about any one of them.
        self._spread: dict[str, int] = defaultdict(int)
        for words in self._vocabulary.values():
            for word in words:
                self._spread[word] += 1
        self.languages = frozenset(self._vocabulary) | {default}
        self._sorted_languages = tuple(sorted(self.languages))  # a cache key
        self._readable_bar = _readable_bar(self._sorted_languages)
        self._latin_letters = frozenset(string.ascii_lowercase).union(
            *(EXTRA_LATIN_LETTERS.get(lang, "") for lang in self.languages)
        )

    def warm_up(self) -> None:
        """Load langdetect's profiles (all of them, then the candidates') and the candidates'
        word lists now: loaded lazily, they cost the first customer message after a start
        about 0.4 s."""
        _full_factory()
        _factory_for(self._sorted_languages)
        for lang in self._sorted_languages:
            if (own := _word_list(lang)) is not None:
                # positional, as wordfreq calls it: its cache keys on the form of the call
                wordfreq.get_frequency_dict(own, WORD_LIST)

    def message_scores(self, text: str) -> dict[str, float]:
        """Evidence for each language from the message alone (0 for none)."""
        scores = dict.fromkeys(self.languages, 0.0)
        words = words_of(text)
        # With only the candidates' profiles, langdetect must pick one of them even for an
        # Italian sentence, and so must the word lists; on a sentence the full detector is
        # mostly reliable, so the share of its belief that falls on the candidates discounts
        # both, unless the word lists, its guess included, firmly say a candidate.
        plausible = 1.0
        if len(words) >= FOREIGN_MIN_WORDS and self._word_lists_verdict(text) not in scores:
            plausible = sum(p for lang, p in _langdetect_all(text) if self._understood(lang))
        for lang, probability in _langdetect_among(text, self.languages).items():
            scores[lang] += probability * plausible
        for lang, share in _word_list_shares(_typed_words(text), self.languages).items():
            scores[lang] += VOCABULARY_WEIGHT * share * plausible
        for word in words:
            holders = [lang for lang, vocab in self._vocabulary.items() if word in vocab]
            for lang in holders:
                scores[lang] += VOCABULARY_WEIGHT / (len(words) * self._spread[word])
        script_lang = _script_language(text)
        if script_lang in scores:
            scores[script_lang] += SCRIPT_WEIGHT
        return scores

    def is_foreign(self, text: str) -> bool:
        """Whether ``text`` is written in a language none of the candidates is.

        Either most of its letters are in a script no supported language uses (kana, Arabic),
        or at least half of its words have a Latin letter none of them writes ("şifremi
        unuttum"; a name such as "Łukasz" in a German sentence is not enough), or it is a
        sentence that langdetect, free to pick any language, puts outside the candidates
        and either the word lists firmly give to that language (see
        :meth:`_word_lists_verdict`) or, with no firm verdict, most of its words are unknown
        in all of them (in their word lists too, when the guess has no list to confirm it).
        langdetect alone is not enough: it calls many Dutch sentences Afrikaans.
        """
        letters = _LETTERS.findall(text[:LANGDETECT_CHARS])
        if not letters:
            return False
        if sum(_script(letter) not in KNOWN_SCRIPTS for letter in letters) > len(letters) / 2:
            return True
        if _script_language(text) in self.languages:
            # Greek or Cyrillic letters: whatever langdetect makes of it ("На грани истерики."
            # as Bulgarian), its reader is better served in Greek or Russian than in English.
            return False
        if self.foreign_letters_share(text) >= FOREIGN_LETTER_WORDS_SHARE:
            return True
        words = words_of(text)
        if len(words) < FOREIGN_MIN_WORDS:
            return False
        verdict = self._word_lists_verdict(text)
        if verdict is not None:
            return verdict not in self.languages
        guesses = _langdetect_all(text)
        if not guesses or self._understood(guesses[0][0]) or guesses[0][1] < FOREIGN_CERTAINTY:
            return False
        if _word_list(guesses[0][0]) is None:
            # A guess with no word list to confirm it (Afrikaans for "wer hat die WM 2014
            # gewonnen?") stands only if the candidates' own lists do not know the words.
            known = sum(self._is_known(word) for word in words)
        else:
            # The FAQ's and the common words only: the word lists hold "il", "la" and "min"
            # in every language, and an Italian sentence would pass for a supported one.
            known = sum(self._in_vocabulary(word) for word in words)
        return known / len(words) < FOREIGN_MAX_KNOWN_SHARE

    def _word_lists_verdict(self, text: str) -> str | None:
        """The language the word lists firmly give ``text`` when langdetect, free to pick any
        language, guesses an unsupported one; None without such a guess or a firm verdict.

        Both ways count: "quanto costa la spedizione in Italia" has Italian words, not Spanish
        ones (foreign), while "Regnet es am Samstag?", Danish to langdetect's letter statistics,
        has German words and no Danish ones (German).
        """
        guesses = _langdetect_all(text)
        if not guesses or self._understood(guesses[0][0]) or _word_list(guesses[0][0]) is None:
            return None  # without the guess's own list, the candidates' lists prove nothing
        shares = _word_list_shares(_typed_words(text), [*self.languages, guesses[0][0]])
        best = max(shares, key=lambda lang: shares[lang], default=None)
        return best if best is not None and shares[best] >= FOREIGN_CERTAINTY else None

    def _understood(self, lang: str) -> bool:
        """Whether a reader of ``lang`` is served by a candidate: it is one, or CLDR's
        language matching (through langcodes, at its default distance) offers one for it.

        langdetect calls many Dutch sentences Afrikaans ("Bel me op dinsdag terug"); an
        Afrikaans reader is served in Dutch too, as CLDR says.
        """
        return _closest_candidate(lang, self._sorted_languages) is not None

    def is_unreadable(self, text: str) -> bool:
        """Whether ``text`` is keyboard mash ("kjsdhf lkjqwe"), in no language at all.

        None of its words is known (FAQ, common words, word lists) and its letter triples are
        rarer in every candidate's langdetect profile than in all but 1 % of the languages'
        frequent words. langdetect, forced to choose, calls such text Dutch or Afrikaans.
        """
        words = words_of(text[:LANGDETECT_CHARS])
        if not words or _script_language(text) is not None:
            return False
        if any(self._is_known(word) for word in (*words, *_typed_words(text))):
            return False
        familiar = sum(_familiar_triples(word, self.languages) for word in words) / len(words)
        return familiar < self._readable_bar

    def _is_known(self, word: str) -> bool:
        """In the FAQ's or the common words, or in a candidate's word list."""
        return self._in_vocabulary(word) or bool(_word_frequencies(word, self._sorted_languages))

    def _in_vocabulary(self, word: str) -> bool:
        """In the FAQ's or the common words of a candidate."""
        return any(word in vocab for vocab in self._vocabulary.values())

    def foreign_letters_share(self, text: str) -> float:
        """The share of the words of ``text`` with a Latin letter the bot's languages lack."""
        words = _WORD.findall(unicodedata.normalize("NFC", text[:LANGDETECT_CHARS].casefold()))
        if not words:
            return 0.0
        foreign = sum(
            any(_script(letter) == "LATIN" and letter not in self._latin_letters for letter in w)
            for w in words
        )
        return foreign / len(words)

    def detect(self, text: str) -> DetectedLanguage:
        """The language of one message; ``default`` with confidence 0 when there is no evidence."""
        return self.resolve(text)

    def resolve(
        self, text: str, *, previous: DetectedLanguage | None = None, locale: str | None = None
    ) -> DetectedLanguage:
        """The conversation's language after ``text``, given what was known before it."""
        text = _IDENTIFIERS.sub(" ", text)  # "FLT10047PNNB", "me@mail.com": in no language
        hint = _locale_language(locale)
        # Answering in a near neighbour (Italian -> French) helps nobody; mash has no language.
        if self.is_foreign(text) or self.is_unreadable(text):
            fallback = hint if hint in self.languages else self.default
            return previous or DetectedLanguage(fallback, 0.0)
        scores = self.message_scores(text)
        if not any(scores.values()) and previous is None and hint not in scores:
            return DetectedLanguage(self.default, 0.0)  # nothing known at all
        # Short messages count less. Against a language the conversation already has they
        # count much less (squared), so "gift card" in a Russian conversation stays Russian.
        share = min(1.0, len(words_of(text)) / FULL_EVIDENCE_WORDS)
        weight = share if previous is None else share**2
        combined = {lang: score * weight for lang, score in scores.items()}
        if previous is None:
            combined[self.default] += DEFAULT_WEIGHT * (1.0 - share)
        if hint in combined:
            combined[hint] += LOCALE_WEIGHT
        if previous is not None and previous.lang in combined and previous.confidence > 0:
            combined[previous.lang] += PREVIOUS_WEIGHT * max(previous.confidence, 0.5)
        total = sum(combined.values())
        if total <= 0:
            return previous or DetectedLanguage(hint or self.default, 0.0)
        best = max(sorted(combined), key=lambda lang: combined[lang])
        return DetectedLanguage(best, round(combined[best] / total, 3))


def detect_language(text: str, candidates: Collection[str], default: str) -> DetectedLanguage:
    """langdetect alone with only the ``candidates``' profiles: the baseline the identifier
    is judged by."""
    ranked = _langdetect_among(text, candidates)
    if not ranked:
        return DetectedLanguage(default, 0.0)
    best = max(ranked, key=lambda lang: ranked[lang])
    return DetectedLanguage(best, ranked[best])


def _langdetect_among(text: str, candidates: Collection[str]) -> dict[str, float]:
    """langdetect's probabilities with only the candidates' profiles loaded.

    On lingua's short test words this beats filtering the full detector's answer (single
    words 67.7 % against 55.8 %): other languages' profiles no longer soak up probability.
    """
    factory = _factory_for(tuple(sorted(candidates)))
    if factory is None or not _LETTERS.search(text):
        return {}
    detector = factory.create()
    detector.append(text[:LANGDETECT_CHARS])
    try:
        ranked = detector.get_probabilities()
    except LangDetectException:
        return {}
    return {_normalise(guess.lang): float(guess.prob) for guess in ranked}


@lru_cache
def _factory_for(languages: tuple[str, ...]) -> DetectorFactory | None:
    """A seeded langdetect factory with the profiles of ``languages`` (those it has)."""
    profiles = [
        (Path(PROFILES_DIRECTORY) / lang).read_text(encoding="utf-8")
        for lang in languages
        if (Path(PROFILES_DIRECTORY) / lang).is_file()
    ]
    if len(profiles) < 2:
        return None
    factory = DetectorFactory()
    factory.load_json_profile(profiles)
    factory.set_seed(0)
    return factory


@lru_cache(maxsize=1)
def _full_factory() -> DetectorFactory:
    """A seeded langdetect factory with all its profiles (55 languages)."""
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(0)
    return factory


@lru_cache(maxsize=512)
def _langdetect_all(text: str) -> tuple[tuple[str, float], ...]:
    """langdetect's guesses among all the languages it knows, most probable first (its own
    result; see knowledge/langdetect_numpy.py for why numpy computes it).

    Cached: one turn asks it twice (is the message foreign? which language is it?), and
    seeded langdetect gives the same answer for the same text.
    """
    if not _LETTERS.search(text):
        return ()
    detector = NumpyDetector(_full_factory())
    detector.append(text[:LANGDETECT_CHARS])
    try:
        ranked = detector.get_probabilities()
    except LangDetectException:
        return ()
    return tuple((_normalise(guess.lang), float(guess.prob)) for guess in ranked)


def _word_list_shares(words: tuple[str, ...], languages: Collection[str]) -> dict[str, float]:
    """How likely each language is to write ``words``, from word frequencies alone.

    Naive Bayes with a uniform prior: the product of each word's frequency per language, a
    word missing from a list counting as that list's rarest word. Words no list has say
    nothing; with none known the result is empty.
    """
    listed = tuple(sorted(lang for lang in languages if _word_list_floor(lang) is not None))
    logs = dict.fromkeys(listed, 0.0)
    known = False
    for word in words:
        # Customers often type without accents ("esta" for "está" is still Spanish), and
        # stretch words in chat ("Hiii", "hellooo": nl to langdetect, which the lists outvote).
        frequencies = (
            _word_frequencies(word, listed)
            or _word_frequencies(fold(word), listed)
            or _word_frequencies(unstretched(word), listed)
        )
        if not frequencies:
            continue
        known = True
        for lang in listed:
            floor = _word_list_floor(lang) or 0.0
            logs[lang] += math.log(max(frequencies.get(lang, 0.0), floor))
    if not known:
        return {}
    top = max(logs.values())
    likelihoods = {lang: math.exp(value - top) for lang, value in logs.items()}
    total = sum(likelihoods.values())
    return {lang: value / total for lang, value in likelihoods.items()}


@lru_cache(maxsize=65536)
def _word_frequencies(word: str, languages: tuple[str, ...]) -> dict[str, float]:
    """The word's frequency in each language's list that has it (empty when none does)."""
    frequencies = {}
    for lang in languages:
        own = _word_list(lang)
        if own is None:
            continue
        frequency = wordfreq.word_frequency(word, own, wordlist=WORD_LIST)
        if frequency > 0:
            frequencies[lang] = frequency
    return frequencies


@lru_cache(maxsize=1024)
def _closest_candidate(lang: str, candidates: tuple[str, ...]) -> str | None:
    """The candidate CLDR's language matching serves a reader of ``lang`` with, if any."""
    return langcodes.closest_supported_match(lang, candidates)


@lru_cache
def _word_list(lang: str) -> str | None:
    """The code of wordfreq's own list for ``lang`` ("no" -> "nb"), None when it has none.

    langcodes calls a distance under 10 the same language (a region or a standard); above
    it, wordfreq would fall back to a neighbour's list (Afrikaans -> Dutch, Welsh -> English).
    """
    match, distance = langcodes.closest_match(lang, list(wordfreq.available_languages(WORD_LIST)))
    return match if distance < SAME_LANGUAGE_DISTANCE else None


@lru_cache
def _word_list_floor(lang: str) -> float | None:
    """The frequency of the rarest word in the language's list; None when it has no list.

    wordfreq keeps frequencies in centibel buckets: bucket i holds words of 10^(-i/100).
    """
    own = _word_list(lang)
    if own is None:
        return None
    # positional, as wordfreq's own get_frequency_dict calls it: one cached read per list
    buckets = wordfreq.get_frequency_list(own, WORD_LIST)
    rarest = max((index for index, bucket in enumerate(buckets) if bucket), default=None)
    return None if rarest is None else 10 ** (-rarest / 100)


@lru_cache
def _readable_bar(languages: tuple[str, ...]) -> float:
    """The familiar-triples share below which only 1 % of real frequent words fall."""
    word_lists = {own for lang in languages if (own := _word_list(lang)) is not None}
    shares = sorted(
        _familiar_triples(word, languages)
        for word_list in word_lists
        for word in _frequent_words(word_list)
    )
    if not shares:
        return 0.0
    return shares[int(len(shares) * UNREADABLE_REFERENCE_SHARE)]


def _frequent_words(word_list: str) -> list[str]:
    words: list[str] = []
    for bucket in wordfreq.get_frequency_list(word_list, WORD_LIST):
        words.extend(word for word in bucket if word.isalpha() and len(word) > 3)
        if len(words) >= READABLE_REFERENCE_WORDS:
            break
    return words[:READABLE_REFERENCE_WORDS]


def _familiar_triples(word: str, languages: Collection[str]) -> float:
    """The largest share of the word's letter triples (with its edges) one profile knows."""
    padded = f" {word} "
    triples = [padded[i : i + 3] for i in range(len(padded) - 2)]
    best = 0.0
    for lang in languages:
        profile = _profile_triples(lang)
        if profile:
            best = max(best, sum(triple in profile for triple in triples) / len(triples))
    return best


@lru_cache
def _profile_triples(lang: str) -> frozenset[str]:
    """The letter triples langdetect's profile of ``lang`` keeps (empty without a profile)."""
    path = Path(PROFILES_DIRECTORY) / lang
    if not path.is_file():
        return frozenset()
    frequencies = json.loads(path.read_text(encoding="utf-8"))["freq"]
    return frozenset(gram for gram in frequencies if len(gram) == 3)


def _script(character: str) -> str:
    return unicodedata.name(character, "").split(" ")[0]


def _script_language(text: str) -> str | None:
    for character in text:
        if character.isalpha() and _script(character) in SCRIPT_LANGUAGES:
            return SCRIPT_LANGUAGES[_script(character)]
    return None


def _locale_language(locale: str | None) -> str | None:
    """``nl-BE``, ``pt_BR``, ``el`` -> ``nl``, ``pt``, ``el``."""
    return base_language(locale) if locale else None


def _normalise(code: str) -> str:
    """langdetect says ``zh-cn``/``zh-tw``; the FAQ uses ISO 639-1 base codes. (Not
    core/languages.py: CLDR would make langdetect's "tl" "fil", a language with a word list
    langdetect's guesses were never checked against.)"""
    return code.split("-")[0].lower()
