"""Language identification on short messages and in conversations. Not a test: prints numbers.

.venv/bin/python scripts/eval_language.py [--lingua ../shared/eval/lingua]

With lingua's public test data (single words, word pairs, sentences in the 8 languages) it
also prints the identifier against langdetect with only the 8 languages' profiles loaded.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from knowledge.language import (
    DetectedLanguage,
    LanguageIdentifier,
    detect_language,
    words_of,
)
from knowledge.loader import load_faq

ROOT = Path(__file__).resolve().parent.parent
SUPPORTED = {"en", "nl", "pt", "el", "ru", "de", "fr", "es"}


def load(name: str) -> list[dict[str, str]]:
    lines = (ROOT / "knowledge" / "eval" / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def accuracy(rows: list[dict[str, str]], predict: object) -> tuple[float, float]:
    started = time.perf_counter()
    right = sum(predict(row) == row["lang"] for row in rows)  # type: ignore[operator]
    return right / len(rows), (time.perf_counter() - started) * 1000 / len(rows)


def main() -> None:
    identifier = LanguageIdentifier(load_faq(ROOT / "knowledge" / "faq"), default="en")
    short = load("short_messages.jsonl")
    sentences = load("questions.jsonl")
    from langdetect import detect

    checks = {
        "short, langdetect alone (all its languages)": (
            short,
            lambda r: detect(r["text"]).split("-")[0],
        ),
        "short, langdetect restricted to the 8": (
            short,
            lambda r: detect_language(r["text"], SUPPORTED, "en").lang,
        ),
        "short, identifier, message alone": (short, lambda r: identifier.detect(r["text"]).lang),
        "short, conversation already in that language (stays)": (
            short,
            lambda r: identifier.resolve(r["text"], previous=DetectedLanguage(r["lang"], 0.9)).lang,
        ),
        "sentences, langdetect restricted to the 8": (
            sentences,
            lambda r: detect_language(r["text"], SUPPORTED, "en").lang,
        ),
        "sentences, identifier, message alone": (
            sentences,
            lambda r: identifier.detect(r["text"]).lang,
        ),
        "sentences, switch from another language (followed)": (
            sentences,
            lambda r: (
                identifier.resolve(
                    r["text"], previous=DetectedLanguage("de" if r["lang"] == "en" else "en", 0.9)
                ).lang
            ),
        ),
    }
    # In an English conversation, "danke" or "спасибо" changes nothing, while "wo ist meine
    # Bestellung" is a customer who now writes German.
    not_english = [r for r in short if r["lang"] != "en"]
    checks["one non-English word in an English conversation (stays en)"] = (
        [{**r, "lang": "en"} for r in not_english if len(words_of(r["text"])) == 1],
        lambda r: identifier.resolve(r["text"], previous=DetectedLanguage("en", 0.9)).lang,
    )
    checks["2-4 non-English words in an English conversation (followed)"] = (
        [r for r in not_english if len(words_of(r["text"])) > 1],
        lambda r: identifier.resolve(r["text"], previous=DetectedLanguage("en", 0.9)).lang,
    )
    # Languages the FAQ lacks: the first message falls back to the default language, a
    # message in an established conversation keeps its language, rather than a neighbour's.
    foreign = load("foreign_messages.jsonl")
    checks["unsupported language, first message (default language)"] = (
        [{**r, "lang": "en"} for r in foreign],
        lambda r: identifier.detect(r["text"]).lang,
    )
    checks["unsupported language in a German conversation (stays de)"] = (
        [{**r, "lang": "de"} for r in foreign],
        lambda r: identifier.resolve(r["text"], previous=DetectedLanguage("de", 0.9)).lang,
    )
    supported = [*short, *sentences]
    checks["supported-language messages not taken for foreign"] = (
        [{**r, "lang": "no"} for r in supported],
        lambda r: "yes" if identifier.is_foreign(r["text"]) else "no",
    )
    for name, (rows, predict) in checks.items():
        value, ms = accuracy(rows, predict)
        print(f"{name:<70} n={len(rows):<4} {value:6.1%}  {ms:6.2f} ms/msg")


def lingua(folder: Path) -> None:
    """Message-alone accuracy on lingua's test data, per length, with langdetect-8 beside."""
    identifier = LanguageIdentifier(load_faq(ROOT / "knowledge" / "faq"), default="en")
    print(f"\nlingua test data ({folder})")
    header = f"{'length':<14}{'n':>6}{'langdetect-8':>14}{'identifier':>12}"
    print(header + "   identifier's 'en' calls right")
    for length in ("single-words", "word-pairs", "sentences"):
        rows = [
            {"text": line.strip(), "lang": path.stem}
            for path in sorted((folder / length).glob("*.txt"))
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and path.stem in SUPPORTED
        ]
        baseline, _ = accuracy(rows, lambda r: detect_language(r["text"], SUPPORTED, "en").lang)
        guesses = [identifier.detect(row["text"]).lang for row in rows]
        value = sum(g == row["lang"] for g, row in zip(guesses, rows, strict=True)) / len(rows)
        calls_en = [row["lang"] for g, row in zip(guesses, rows, strict=True) if g == "en"]
        precision_en = calls_en.count("en") / len(calls_en) if calls_en else 0.0
        print(f"{length:<14}{len(rows):>6}{baseline:>14.1%}{value:>12.1%}   {precision_en:.0%}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--lingua", type=Path, default=ROOT.parent / "shared" / "eval" / "lingua")
    args = parser.parse_args()
    main()
    if args.lingua.is_dir():
        lingua(args.lingua)
