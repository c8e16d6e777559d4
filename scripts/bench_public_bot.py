"""Benchmark: the public sets through the whole bot, as a customer meets it. Not a test.

scripts/bench_quality.py asks the knowledge base directly. Here each question is the first
message of a new conversation on the real REST channel of a stack loaded with the
benchmark's FAQ, so Rasa's NLU, the actions' gates and the dialogue rules have their say too:
a question the NLU takes for a greeting gets a greeting, one it takes for a request for a
person may make a ticket. The move is read from Rasa's tracker as
scripts/bench_conversations.py reads it, and scored as bench_quality.py scores the knowledge
base's (knowledge/evaluation.py): a clarifying question counts for the expected entry when it
offers it, every move that is no answer and no clarifying question (a decline, a greeting, a
ticket) counts as declined. Printed per benchmark and language: answer accuracy, wrong moves,
out-of-scope recall, MCC as HINT3 computes it, the moves only the whole bot makes (tickets,
offers, small talk), and the questions that made a ticket.

    .venv/bin/python scripts/bench_public_bot.py [--eval-dir ../shared/eval] [--only NAME ...]
        [--json FILE]   # the figures and every question with the bot's move
"""

from __future__ import annotations

import argparse
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from bench_conversations import Stack, Turn, observe
from benchkit import throwaway_stack

from core.identity import sign
from core.settings import PROJECT_ROOT
from knowledge.calibration import weighted_mcc
from knowledge.evaluation import NO_ANSWER

#: Public sets in ../shared/eval (its README): folder, question files.
SETS = {
    "hint3_sofmattress": "questions_dev.jsonl",
    "hint3_curekart": "questions_dev.jsonl",
    "hint3_powerplay11": "questions_dev.jsonl",
    "xsid": "questions_dev_*.jsonl",
}
#: Moves that answer the question from the FAQ (or offer its entry to pick).
FAQ_MOVES = ("answer", "clarify")


@dataclass(frozen=True)
class Played:
    """One public question, what was expected and what the bot did."""

    text: str
    lang: str
    expected_id: str | None
    move: str  # as bench_conversations.observe names it: "answer:<id>", "clarify", "greet"…
    choices: tuple[str, ...]

    @property
    def kind(self) -> str:
        return self.move.split(":")[0]

    @property
    def entry_id(self) -> str | None:
        return self.move.removeprefix("answer:") if self.kind == "answer" else None

    @property
    def label(self) -> str:
        """The move as HINT3 labels it (knowledge/evaluation.py Outcome.label)."""
        if self.entry_id is not None:
            return self.entry_id
        if self.kind == "clarify" and self.choices:
            return self.expected_id if self.expected_id in self.choices else self.choices[0]
        return NO_ANSWER

    @property
    def wrong_move(self) -> bool:
        """A wrong answer, or two entries offered for a question the FAQ does not cover."""
        if self.entry_id is not None:
            return self.entry_id != self.expected_id
        return self.kind == "clarify" and self.expected_id is None


def questions(eval_dir: Path, name: str) -> list[dict[str, Any]]:
    folder = eval_dir / name
    return [
        json.loads(line)
        for path in sorted(folder.glob(SETS[name]))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def play(eval_dir: Path, name: str) -> list[Played]:
    """Every question of ``name`` as the first message of its own conversation."""
    asked = questions(eval_dir, name)
    played = []
    with throwaway_stack(faq_path=eval_dir / name / "faq.csv") as (settings, _):
        stack = Stack(settings)
        for question in asked:
            sender = sign(f"public-{uuid.uuid4().hex[:12]}", stack.secret)
            turn = Turn(name, name, question["lang"], question["lang"], question["text"], [])
            stack.say(sender, question["text"])
            tracker = stack.tracker(sender)
            observe(turn, tracker["events"], tracker["slots"])
            played.append(
                Played(
                    question["text"],
                    question["lang"],
                    question["expected_id"],
                    turn.move,
                    tuple(turn.choices),
                )
            )
    return played


def figures(played: Sequence[Played]) -> dict[str, Any]:
    in_scope = [p for p in played if p.expected_id is not None]
    out_of_scope = [p for p in played if p.expected_id is None]
    labels = sorted({p.label for p in played} | {p.expected_id or NO_ANSWER for p in played})
    column = {label: i for i, label in enumerate(labels)}
    gold = np.array([column[p.expected_id or NO_ANSWER] for p in played], dtype=np.int64)
    guess = np.array([column[p.label] for p in played], dtype=np.int64)
    return {
        "n": len(played),
        "ans_acc": _ratio(sum(p.entry_id == p.expected_id for p in in_scope), len(in_scope)),
        "wrong": _ratio(sum(p.wrong_move for p in played), len(played)),
        "oos_rec": _ratio(sum(p.kind not in FAQ_MOVES for p in out_of_scope), len(out_of_scope)),
        "mcc": round(weighted_mcc(gold, guess, np.ones(len(played)), len(labels)), 4),
        "moves": dict(Counter(p.kind for p in played).most_common()),
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=PROJECT_ROOT.parent / "shared" / "eval")
    parser.add_argument("--only", nargs="*", choices=sorted(SETS), help="benchmarks to run")
    parser.add_argument("--json", type=Path, help="also write the figures and every move here")
    args = parser.parse_args(argv)
    chosen = [name for name in args.only or SETS if (args.eval_dir / name).is_dir()]
    if not chosen:
        raise SystemExit(f"no public set found in {args.eval_dir}")
    tickets: list[tuple[str, Played]] = []
    report: dict[str, Any] = {}
    for name in chosen:
        played = play(args.eval_dir, name)
        by_lang: dict[str, list[Played]] = defaultdict(list)
        for item in played:
            by_lang[item.lang].append(item)
        report[name] = {"all": figures(played), "questions": [asdict(item) for item in played]}
        print(f"{name:<20} {report[name]['all']}")
        for lang, group in sorted(by_lang.items()) if len(by_lang) > 1 else ():
            print(f"  {lang:<18} {figures(group)}")
        tickets += [(name, item) for item in played if item.kind == "ticket"]
    print("\nquestions that made a ticket:")
    for name, item in tickets:
        print(f"  [{name}] {item.text[:80]!r} (expected {item.expected_id})")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
