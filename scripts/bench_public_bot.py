"""Benchmark: the public sets through the whole bot, as a customer meets it. Not a test.

scripts/bench_quality.py asks the knowledge base directly. Here each question is the first
message of a new conversation on the real REST channel of a stack loaded with the
benchmark's FAQ, so Rasa's NLU, the actions' gates and the dialogue rules have their say too:
a question the NLU takes for a greeting gets a greeting, one it takes for a request for a
person may make a ticket. The move is read from Rasa's tracker as
scripts/bench_conversations.py reads it, and scored as bench_quality.py scores the knowledge
base's: each move becomes the knowledge base's Answer it stands for, and knowledge/evaluation.py
scores it (a clarifying question counts for the expected entry when it offers it; every move
that is neither an answer nor a clarifying question, a decline, a greeting, a ticket, is a
decline). Printed per benchmark and language: answer accuracy, wrong moves, out-of-scope
recall, clarify rate, MCC as HINT3 computes it, the moves only the whole bot makes (tickets,
offers, small talk), and the questions that made a ticket.

    .venv/bin/python scripts/bench_public_bot.py [--eval-dir ../shared/eval] [--only NAME ...]
        [--json FILE]   # the figures and every question with the bot's move
"""

from __future__ import annotations

import argparse
import json
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_conversations import Stack, Turn, observe
from bench_quality import PUBLIC_SETS, public_benchmark
from benchkit import throwaway_stack

from core.identity import sign
from core.settings import PROJECT_ROOT
from knowledge import Answer, Choice
from knowledge.evaluation import MOVE_FIGURES, LabelledQuestion, Outcome, metrics
from knowledge.language import DetectedLanguage

#: knowledge/evaluation.py's figures that mean something for a move (no ranking is seen).
FIGURES = ("n", *MOVE_FIGURES)


@dataclass(frozen=True)
class Played:
    """One public question and what the bot did (a move as bench_conversations.observe names
    it: "answer:<id>", "clarify", "greet"…, with the entries its buttons offered)."""

    question: LabelledQuestion
    move: str
    choices: tuple[str, ...]

    @property
    def kind(self) -> str:
        return self.move.split(":")[0]

    def outcome(self) -> Outcome:
        """The move as the knowledge base's decision it stands for."""
        lang = self.question.lang
        offered = tuple(Choice(entry_id, entry_id) for entry_id in self.choices)
        answer = Answer(
            None,
            self.move.removeprefix("answer:") if self.kind == "answer" else None,
            lang,
            DetectedLanguage(lang, 1.0),
            choices=offered if self.kind == "clarify" else (),
            suggestions=offered if self.kind == "suggest" else (),
        )
        return Outcome(self.question, answer, 0.0)


def play(eval_dir: Path, name: str) -> list[Played]:
    """Every question of ``name`` as the first message of its own conversation."""
    played = []
    with throwaway_stack(faq_path=eval_dir / name / "faq.csv") as (settings, _):
        stack = Stack(settings)
        for question in public_benchmark(eval_dir, name).questions:
            sender = sign(f"public-{uuid.uuid4().hex[:12]}", stack.secret)
            turn = Turn(name, name, question.lang, question.lang, question.text, [])
            stack.say(sender, question.text)
            tracker = stack.tracker(sender)
            observe(turn, tracker["events"], tracker["slots"])
            played.append(Played(question, turn.move, tuple(turn.choices)))
    return played


def figures(played: list[Played]) -> dict[str, Any]:
    scored = metrics([item.outcome() for item in played])
    return {
        **{key: scored[key] for key in FIGURES},
        "moves": dict(Counter(item.kind for item in played).most_common()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=PROJECT_ROOT.parent / "shared" / "eval")
    parser.add_argument("--only", nargs="*", choices=sorted(PUBLIC_SETS), help="benchmarks to run")
    parser.add_argument("--json", type=Path, help="also write the figures and every move here")
    args = parser.parse_args(argv)
    chosen = [name for name in args.only or PUBLIC_SETS if (args.eval_dir / name).is_dir()]
    if not chosen:
        raise SystemExit(f"no public set found in {args.eval_dir}")
    tickets: list[tuple[str, Played]] = []
    report: dict[str, Any] = {}
    for name in chosen:
        played = play(args.eval_dir, name)
        by_lang: dict[str, list[Played]] = defaultdict(list)
        for item in played:
            by_lang[item.question.lang].append(item)
        report[name] = {
            "all": figures(played),
            "questions": [
                {**vars(item.question), "move": item.move, "choices": item.choices}
                for item in played
            ],
        }
        print(f"{name:<20} {report[name]['all']}")
        for lang, group in sorted(by_lang.items()) if len(by_lang) > 1 else ():
            print(f"  {lang:<18} {figures(group)}")
        tickets += [(name, item) for item in played if item.kind == "ticket"]
    print("\nquestions that made a ticket:")
    for name, item in tickets:
        print(f"  [{name}] {item.question.text[:80]!r} (expected {item.question.expected_id})")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
