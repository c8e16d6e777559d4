"""Reading FAQ entries from the native YAML files or from a CSV export, and writing that export.

Native format, one YAML file per topic under ``knowledge/faq/``::

    entries:
      - id: reset-password
        tags: [account]
        variants:
          en:
            question: How do I reset my password?
            alternatives: [I forgot my password]
            answer: Click "Forgot password" on the sign-in page ...
          nl: {question: ..., answer: ...}

CSV: columns ``id,lang,question,answer`` (UTF-8, quoted fields allowed; commas, semicolons or
tabs between them), an optional ``alternatives`` column separated by ``|`` or line breaks.
Rows sharing an id are translations of one entry.

A variant's language is a language, not a region: "en-US", "pt_BR" or "por" is read as "en" or
"pt" (core/languages.py), as the customer's language is detected; two variants of one entry in
the same language ("pt-PT" and "pt-BR") are refused.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from core.languages import base_language
from knowledge.errors import FaqFormatError
from knowledge.models import FaqEntry, FaqVariant

logger = logging.getLogger(__name__)

REQUIRED_CSV_COLUMNS = ("id", "lang", "question", "answer")
ENTRY_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
MAX_FIELD_CHARS = 10_000
CSV_LIST_SEPARATOR = "|"
#: What separates a CSV cell's alternatives: the separator, or a line break (a spreadsheet
#: user writes one per line in the cell).
CSV_LIST_SPLIT = re.compile(r"\||\r\n|\r|\n")
#: Field separators a CSV may come with: a comma, a semicolon (what Excel writes where the
#: decimal mark is a comma: nl, de, fr, es, pt) or a tab (its "Unicode text").
CSV_DELIMITERS = (",", ";", "\t")
#: Header names other tools give the language column.
CSV_COLUMN_ALIASES = {"language": "lang", "locale": "lang"}


def load_faq(path: Path) -> list[FaqEntry]:
    """Load entries from a directory of YAML files, one YAML file, or one CSV file."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        if not files:
            raise FaqFormatError(path, "no .yaml files in this directory")
        return _merge(entry for file in files for entry in load_yaml_file(file))
    if path.suffix.lower() == ".csv":
        return load_csv(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        return _merge(load_yaml_file(path))
    if not path.exists():
        raise FaqFormatError(path, "no such file or directory")
    raise FaqFormatError(path, "unsupported FAQ format (expected a directory, .yaml or .csv)")


def languages_mostly_without_alternatives(entries: Iterable[FaqEntry]) -> list[str]:
    """The languages in which most variants are a single question: there the bot answers far
    less reliably (HINT3's real traffic, wrong answers 0.09-0.12 with the alternatives and
    0.18-0.50 without: README, "every alternative removed"), so the operator should hear it."""
    variants: dict[str, int] = {}
    single: dict[str, int] = {}
    for entry in entries:
        for lang, variant in entry.variants.items():
            variants[lang] = variants.get(lang, 0) + 1
            single[lang] = single.get(lang, 0) + (not variant.alternatives)
    return sorted(lang for lang, total in variants.items() if 2 * single[lang] > total)


def dump_csv(entries: Iterable[FaqEntry], path: Path) -> int:
    """Write ``entries`` as the CSV export (a row per variant, languages sorted); returns rows.

    The export is what ``helpdesk kb eval`` reads and what other tools exchange; it is
    generated, never edited by hand, so it cannot drift from the YAML.
    """
    rows = []
    for entry in entries:
        for lang in sorted(entry.variants):
            variant = entry.variants[lang]
            if any(CSV_LIST_SPLIT.search(alt) for alt in variant.alternatives):
                raise FaqFormatError(
                    path,
                    f"id '{entry.id}' ({lang}): an alternative contains "
                    f"'{CSV_LIST_SEPARATOR}' or a line break",
                )
            alternatives = CSV_LIST_SEPARATOR.join(variant.alternatives)
            rows.append([entry.id, lang, variant.question, variant.answer, alternatives])
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)  # RFC 4180 line ends
        writer.writerow([*REQUIRED_CSV_COLUMNS, "alternatives"])
        writer.writerows(rows)
    return len(rows)


def load_yaml_file(path: Path) -> list[FaqEntry]:
    """Parse one native YAML file."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise FaqFormatError(path, f"cannot read YAML: {error}") from error
    if not isinstance(document, Mapping) or not isinstance(document.get("entries"), list):
        raise FaqFormatError(path, "expected a mapping with an 'entries' list")
    return [
        _entry_from_yaml(path, position, raw) for position, raw in enumerate(document["entries"], 1)
    ]


def _entry_from_yaml(path: Path, position: int, raw: Any) -> FaqEntry:
    if not isinstance(raw, Mapping):
        raise FaqFormatError(path, f"entry #{position} is not a mapping")
    entry_id = _check_id(path, str(raw.get("id", "")), row=None, label=f"entry #{position}")
    raw_variants = raw.get("variants")
    if not isinstance(raw_variants, Mapping) or not raw_variants:
        raise FaqFormatError(path, f"entry '{entry_id}' has no variants")
    variants: dict[str, FaqVariant] = {}
    for lang, fields in raw_variants.items():
        where = f"entry '{entry_id}', language '{lang}'"
        if not isinstance(fields, Mapping):
            raise FaqFormatError(path, f"{where}: expected question/answer fields")
        alternatives = fields.get("alternatives") or []
        if not isinstance(alternatives, list):
            raise FaqFormatError(path, f"{where}: 'alternatives' must be a list")
        variant = _variant(
            path,
            None,
            where,
            lang=str(lang),
            question=fields.get("question"),
            answer=fields.get("answer"),
            alternatives=alternatives,
        )
        _add_variant(variants, variant, path, f"entry '{entry_id}'")
    tags = raw.get("tags") or []
    return FaqEntry(id=entry_id, variants=variants, tags=tuple(str(tag) for tag in tags))


def load_csv(path: Path) -> list[FaqEntry]:
    """Parse a CSV export; every error names the row (1 = header line). Fields are separated
    by commas, or by semicolons or tabs as spreadsheets export them (see CSV_DELIMITERS)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
        delimiter = _csv_delimiter(text)
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except FileNotFoundError as error:
        raise FaqFormatError(path, "no such file") from error
    except UnicodeDecodeError as error:
        raise FaqFormatError(
            path,
            f"cannot read CSV: not UTF-8 (byte {error.start}); save it as UTF-8 "
            "(in Excel: 'CSV UTF-8')",
        ) from error
    except (OSError, csv.Error) as error:
        raise FaqFormatError(path, f"cannot read CSV: {error}") from error
    if not rows:
        raise FaqFormatError(path, "the file is empty")
    header = _csv_header(rows[0])
    missing = [column for column in REQUIRED_CSV_COLUMNS if column not in header]
    if missing:
        raise FaqFormatError(path, f"missing column(s): {', '.join(missing)}", row=1)
    return _merge(_entries_from_csv_rows(path, header, rows[1:]))


def _csv_header(names: Sequence[str]) -> list[str]:
    """Column names as the loader knows them (case and spaces aside, "language" is "lang")."""
    plain = (name.strip().lower() for name in names)
    return [CSV_COLUMN_ALIASES.get(name, name) for name in plain]


def _csv_delimiter(text: str) -> str:
    """The first of CSV_DELIMITERS whose header line holds every required column; a comma
    when none does (the error then names the columns missing)."""
    first_line = io.StringIO(text, newline="").readline()
    for delimiter in CSV_DELIMITERS:
        header = _csv_header(next(csv.reader([first_line], delimiter=delimiter), []))
        if all(column in header for column in REQUIRED_CSV_COLUMNS):
            return delimiter
    return CSV_DELIMITERS[0]


def _entries_from_csv_rows(
    path: Path, header: list[str], rows: list[list[str]]
) -> Iterator[FaqEntry]:
    first_row_of: dict[tuple[str, str], int] = {}
    variants_by_id: dict[str, dict[str, FaqVariant]] = {}
    for row_number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise FaqFormatError(
                path, f"expected {len(header)} fields, found {len(row)}", row=row_number
            )
        fields = dict(zip(header, row, strict=True))
        entry_id = _check_id(path, fields["id"].strip(), row=row_number, label="id")
        alternatives = [
            alt for alt in CSV_LIST_SPLIT.split(fields.get("alternatives", "")) if alt.strip()
        ]
        variant = _variant(
            path,
            row_number,
            f"id '{entry_id}'",
            lang=fields["lang"].strip(),
            question=fields["question"],
            answer=fields["answer"],
            alternatives=alternatives,
        )
        key = (entry_id, variant.lang)
        if key in first_row_of:
            raise FaqFormatError(
                path,
                f"duplicate (id, lang) = ({entry_id}, {variant.lang}), "
                f"first seen in row {first_row_of[key]} (regions of a language count as one)",
                row=row_number,
            )
        first_row_of[key] = row_number
        variants_by_id.setdefault(entry_id, {})[variant.lang] = variant
    for entry_id, variants in variants_by_id.items():
        yield FaqEntry(id=entry_id, variants=variants)


def _variant(
    path: Path,
    row: int | None,
    where: str,
    *,
    lang: str,
    question: Any,
    answer: Any,
    alternatives: list[Any],
) -> FaqVariant:
    language = base_language(lang)
    if language is None:
        raise FaqFormatError(path, f"{where}: invalid language code '{lang}'", row=row)
    texts = {"question": question, "answer": answer}
    for name, value in texts.items():
        if not isinstance(value, str) or not value.strip():
            raise FaqFormatError(path, f"{where}: empty {name}", row=row)
        if len(value) > MAX_FIELD_CHARS:
            raise FaqFormatError(
                path, f"{where}: {name} longer than {MAX_FIELD_CHARS} characters", row=row
            )
    return FaqVariant(
        lang=language,
        question=question.strip(),
        answer=answer.strip(),
        alternatives=tuple(str(alt).strip() for alt in alternatives if str(alt).strip()),
    )


def _add_variant(
    variants: dict[str, FaqVariant], variant: FaqVariant, path: Path, where: str
) -> None:
    """Add ``variant`` to one entry's, refusing a second one in its language ("pt-PT" and
    "pt-BR"): the bot answers per language, so one of the two would never be said."""
    if variant.lang in variants:
        raise FaqFormatError(
            path, f"{where}: two variants in language '{variant.lang}' (regions count as one)"
        )
    variants[variant.lang] = variant


def _check_id(path: Path, entry_id: str, *, row: int | None, label: str) -> str:
    if not ENTRY_ID_PATTERN.match(entry_id):
        raise FaqFormatError(
            path,
            f"{label}: invalid entry id '{entry_id}' (letters, digits, '-', '_', '.', ':')",
            row=row,
        )
    return entry_id


def _merge(entries: Iterable[FaqEntry]) -> list[FaqEntry]:
    """Refuse an id defined twice across files: translations belong in one entry."""
    merged: dict[str, FaqEntry] = {}
    for entry in entries:
        if entry.id in merged:
            raise FaqFormatError(entry.id, "entry id defined more than once")
        merged[entry.id] = entry
    return list(merged.values())


def with_live_entries(entries: Sequence[FaqEntry], documents: Iterable[Any]) -> list[FaqEntry]:
    """The FAQ files' entries with the ones published in the console (documents in the YAML
    files' shape: id, tags, variants); a live entry with a file entry's id takes its place.
    A malformed document is skipped with a warning: one bad entry never stops the bot."""
    merged = {entry.id: entry for entry in entries}
    for position, document in enumerate(documents, 1):
        try:
            entry = _entry_from_yaml(Path("live FAQ"), position, document)
        except FaqFormatError as error:
            logger.warning("live FAQ entry skipped: %s", error)
            continue
        merged[entry.id] = entry
    return list(merged.values())


def dump_yaml(entries: Iterable[FaqEntry], path: Path) -> int:
    """Write ``entries`` as one native YAML file (what `load_faq` reads); returns how many."""
    document = {
        "entries": [
            {
                "id": entry.id,
                **({"tags": list(entry.tags)} if entry.tags else {}),
                "variants": {
                    lang: {
                        "question": variant.question,
                        **(
                            {"alternatives": list(variant.alternatives)}
                            if variant.alternatives
                            else {}
                        ),
                        "answer": variant.answer,
                    }
                    for lang, variant in sorted(entry.variants.items())
                },
            }
            for entry in entries
        ]
    }
    path.write_text(
        yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100), encoding="utf-8"
    )
    return len(document["entries"])
