"""Parsing the FAQ formats, and the errors bad files get."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from knowledge.errors import FaqFormatError
from knowledge.loader import (
    dump_csv,
    languages_mostly_without_alternatives,
    load_csv,
    load_faq,
    load_yaml_file,
)

SAMPLE_FAQ = Path(__file__).resolve().parents[2] / "knowledge" / "faq"
YAML_FAQ = """
entries:
  - id: reset-password
    tags: [account]
    variants:
      en:
        question: How do I reset my password?
        alternatives: [I forgot my password]
        answer: Use the link on the sign-in page.
      nl:
        question: Hoe stel ik mijn wachtwoord opnieuw in?
        answer: Gebruik de link op de inlogpagina.
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_entry_keeps_every_language_variant_and_alternative(tmp_path: Path) -> None:
    [entry] = load_yaml_file(write(tmp_path, "a.yaml", YAML_FAQ))
    assert entry.id == "reset-password"
    assert entry.languages == ("en", "nl")
    assert entry.variants["en"].phrasings == ("How do I reset my password?", "I forgot my password")
    assert entry.tags == ("account",)


def test_csv_rows_sharing_an_id_become_one_entry_with_translations(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "faq.csv",
        "id,lang,question,answer\n"
        'refund,en,"When do I get my refund, and how?","Within 5 days, to your card."\n'
        "refund,el,Πότε παίρνω πίσω τα χρήματα;,Σε 5 ημέρες.\n"
        "hours,en,When are you open?,Mon-Fri.\n",
    )
    entries = {entry.id: entry for entry in load_csv(path)}
    assert set(entries) == {"refund", "hours"}
    assert entries["refund"].languages == ("el", "en")
    assert entries["refund"].variants["en"].question == "When do I get my refund, and how?"
    assert entries["refund"].variants["el"].answer == "Σε 5 ημέρες."


def test_csv_from_a_spreadsheet_with_semicolons_or_tabs_reads_the_same(tmp_path: Path) -> None:
    """Excel writes semicolons where the decimal mark is a comma (nl, de, fr, es, pt), with a
    byte order mark and CRLF; its "Unicode text" has tabs. Both read as the comma CSV does."""
    rows = [
        ["id", "Language", "Question", "Answer"],
        [
            "refund",
            "nl",
            "Wanneer krijg ik mijn geld terug?",
            "Binnen 5 dagen; op je kaart,\nof als tegoed.",
        ],
        ["refund", "en", "When do I get my refund?", "Within 5 days, to your card."],
    ]
    expected = [
        ("refund", "nl", "Binnen 5 dagen; op je kaart,\nof als tegoed."),
        ("refund", "en", "Within 5 days, to your card."),
    ]
    for name, delimiter in (("semicolons.csv", ";"), ("tabs.csv", "\t")):
        path = tmp_path / name
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
        [entry] = load_csv(path)
        assert [(entry.id, lang, v.answer) for lang, v in entry.variants.items()] == expected


def test_csv_missing_column_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "faq.csv", "id,lang,question\nx,en,Why?\n")
    with pytest.raises(FaqFormatError, match=r"row 1: missing column\(s\): answer"):
        load_csv(path)


def test_csv_duplicate_id_and_language_names_both_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "faq.csv",
        "id,lang,question,answer\nx,en,Why?,Because.\ny,en,How?,So.\nx,en,Why again?,Because.\n",
    )
    with pytest.raises(
        FaqFormatError, match=r"row 4: duplicate \(id, lang\) = \(x, en\), first seen in row 2"
    ):
        load_csv(path)


def test_region_and_three_letter_codes_name_the_language_the_bot_answers_in(
    tmp_path: Path,
) -> None:
    """A helpdesk export tags variants "en-US" or "pt_BR"; the customer's language is
    detected as "en" or "pt", and an answer in "en-US" would come with the note that it is
    not in their language."""
    csv_path = write(
        tmp_path,
        "faq.csv",
        "id,lang,question,answer\n"
        "ship,en-US,How much is shipping?,Free.\n"
        "ship,pt_BR,Quanto custa o frete?,Grátis.\n"
        "ship,DEU,Was kostet der Versand?,Nichts.\n",
    )
    [entry] = load_csv(csv_path)
    assert entry.languages == ("de", "en", "pt")
    assert entry.variants["pt"].lang == "pt"
    yaml_path = write(tmp_path, "faq.yaml", YAML_FAQ.replace("      nl:", "      nl-BE:"))
    [entry] = load_yaml_file(yaml_path)
    assert entry.languages == ("en", "nl")


def test_two_regions_of_one_language_in_one_entry_are_refused(tmp_path: Path) -> None:
    csv_path = write(
        tmp_path,
        "faq.csv",
        "id,lang,question,answer\nx,pt-PT,Porquê?,Porque.\nx,pt-BR,Por quê?,Porque.\n",
    )
    with pytest.raises(FaqFormatError, match=r"row 3: duplicate \(id, lang\) = \(x, pt\), first"):
        load_csv(csv_path)
    yaml_path = write(tmp_path, "faq.yaml", YAML_FAQ.replace("      nl:", "      en-GB:"))
    with pytest.raises(
        FaqFormatError, match="entry 'reset-password': two variants in language 'en'"
    ):
        load_yaml_file(yaml_path)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("x,en,,Because.", "row 2: id 'x': empty question"),
        ("x,en,Why?,  ", "row 2: id 'x': empty answer"),
        ("x,english,Why?,Because.", "row 2: id 'x': invalid language code 'english'"),
        ("bad id!,en,Why?,Because.", "row 2: id: invalid entry id 'bad id!'"),
        ("x,en,Why?", "row 2: expected 4 fields, found 3"),
    ],
)
def test_csv_bad_row_gets_an_error_naming_the_row(tmp_path: Path, row: str, message: str) -> None:
    path = write(tmp_path, "faq.csv", f"id,lang,question,answer\n{row}\n")
    with pytest.raises(FaqFormatError) as error:
        load_csv(path)
    assert message in str(error.value)


def test_csv_that_is_not_utf8_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_bytes("id,lang,question,answer\nx,fr,Où?,Là.\n".encode("latin-1"))
    with pytest.raises(FaqFormatError, match=r"not UTF-8 .* save it as UTF-8"):
        load_csv(path)


def test_same_id_in_two_yaml_files_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", YAML_FAQ)
    write(tmp_path, "b.yaml", YAML_FAQ)
    with pytest.raises(FaqFormatError, match="defined more than once"):
        load_faq(tmp_path)


def test_yaml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path, "broken.yaml", "entries:\n  - id: x\n    variants: {en: {question: a: b}}\n"
    )
    with pytest.raises(FaqFormatError, match=r"broken\.yaml: cannot read YAML"):
        load_faq(path)


def test_directory_without_yaml_files_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FaqFormatError, match=r"no \.yaml files"):
        load_faq(tmp_path)


def test_csv_export_reads_back_as_the_same_entries(tmp_path: Path) -> None:
    entries = load_yaml_file(write(tmp_path, "a.yaml", YAML_FAQ.replace("link", 'link, "here"')))
    rows = dump_csv(entries, tmp_path / "faq.csv")
    assert rows == 2
    [entry] = load_csv(tmp_path / "faq.csv")
    assert dict(entry.variants) == dict(entries[0].variants)


def test_csv_export_refuses_an_alternative_it_could_not_read_back(tmp_path: Path) -> None:
    for alternative in ('"forgot | lost"', '"forgot\\nlost"'):
        faq = YAML_FAQ.replace("[I forgot my password]", f"[{alternative}]")
        entries = load_yaml_file(write(tmp_path, "a.yaml", faq))
        with pytest.raises(FaqFormatError, match=r"reset-password.*contains '\|' or a line break"):
            dump_csv(entries, tmp_path / "faq.csv")


def test_csv_alternatives_one_per_line_in_their_cell(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "faq.csv",
        'id,lang,question,answer,alternatives\nx,en,Where is it?,Here.,"Track my order\r\n'
        "Has it shipped?\nwhere's my parcel|  \"\n",
    )
    [entry] = load_csv(path)
    assert entry.variants["en"].alternatives == (
        "Track my order",
        "Has it shipped?",
        "where's my parcel",
    )


def test_languages_where_most_entries_have_one_question_only_are_named(tmp_path: Path) -> None:
    rows = [
        "id,lang,question,answer,alternatives",
        "a,en,Where is my parcel?,Tracking link.,Track my order|Has it shipped",
        "a,nl,Waar is mijn pakket?,Volglink.,",
        "b,en,How do I pay?,Card or iDEAL.,",
        "b,nl,Hoe betaal ik?,Kaart of iDEAL.,",
        "c,en,Can I return it?,Within 30 days.,Send it back",
        "c,de,Kann ich es zurückgeben?,Innerhalb von 30 Tagen.,",
    ]
    entries = load_csv(write(tmp_path, "faq.csv", "\n".join(rows) + "\n"))
    # en: two of three have alternatives; nl: none of two; de: none of one.
    assert languages_mostly_without_alternatives(entries) == ["de", "nl"]
    assert languages_mostly_without_alternatives(load_faq(SAMPLE_FAQ)) == []
