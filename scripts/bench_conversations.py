"""Benchmark: scripted customer conversations through the real REST channel. Not a test.

Starts its own stack (action server, Rasa, API) with the default settings, plays every
conversation of bot/eval/conversations_dev.yaml and conversations_holdout.yaml turn by turn,
reads after each turn what the bot did from Rasa's tracker (the responses it chose, the slots
it set), and compares it with the turn's right move. An agent resolves tickets through the
API where a script says so. Prints the rate of right moves per set, language and expected
move, the tickets nobody asked for, wrong FAQ answers, and every wrong exchange.

    .venv/bin/python scripts/bench_conversations.py [--json out.json] [--only dev|holdout]
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from benchkit import throwaway_stack

from core.identity import sign
from core.settings import PROJECT_ROOT, Settings, conversation_secret
from escalation.auth import create_agent
from escalation.db import prepare, session_scope

SETS = {
    "dev": PROJECT_ROOT / "bot" / "eval" / "conversations_dev.yaml",
    "holdout": PROJECT_ROOT / "bot" / "eval" / "conversations_holdout.yaml",
}
SUPPORTED = ("en", "nl", "pt", "el", "ru", "de", "fr", "es")
#: A turn that is an agent's, not the customer's: ["~agent", resolve].
AGENT = "~agent"
AGENT_EMAIL, AGENT_PASSWORD = "bench@example.com", "scripted talks replayed 7 times"

#: Which response means which move; the first move found in this order is the turn's move.
MOVES_BY_RESPONSE = {
    "utter_ticket_created": "ticket",
    "utter_offer_human_after_failures": "offer",
    "utter_offer_human_for_topic": "offer",
    "utter_which_question": "clarify",
    "utter_not_sure": "decline",
    "utter_not_sure_suggestions": "suggest",
    "utter_no_ticket": "status",
    "utter_ticket_not_found": "status",
    "utter_ask_csat": "csat_prompt",
    "utter_thanks_for_rating": "csat",
    "utter_greet": "greet",
    "utter_you_are_welcome": "thanks",
    "utter_goodbye": "goodbye",
    "utter_glad_to_help": "glad",
    "utter_no_problem": "no_problem",
    "utter_ask_rephrase": "rephrase",
    "utter_empty_message": "empty",
    "utter_human_unavailable": "unavailable",
    "utter_technical_problem": "error",
}
MOVE_ORDER = [
    "ticket", "offer", "clarify", "answer", "suggest", "decline", "status", "csat_prompt", "csat"
]  # fmt: skip


@dataclass
class Turn:
    conversation: str
    set_name: str
    lang: str
    reply_lang: str
    said: str
    expected: list[str]
    move: str = ""
    choices: list[str] = field(default_factory=list)
    language: str | None = None
    intent: str | None = None
    replies: list[str] = field(default_factory=list)

    @property
    def move_right(self) -> bool:
        """The expected move; offering the expected entry as a button counts as answering
        it (one click away), and "not sure" with suggestions is a decline."""
        if self.move in self.expected or (self.move == "suggest" and "decline" in self.expected):
            return True
        return self.offered_expected

    @property
    def offered_expected(self) -> bool:
        return self.move in ("clarify", "suggest") and any(
            f"answer:{c}" in self.expected for c in self.choices
        )

    @property
    def language_right(self) -> bool:
        return self.move in ("silent", "csat_prompt") or self.language == self.reply_lang

    @property
    def right(self) -> bool:
        return self.move_right and self.language_right

    @property
    def kind(self) -> str:
        """The expected move without its entry (answer:refund-time → answer)."""
        return self.expected[0].split(":")[0]


class Stack:
    """The running stack as a customer, as Rasa's tracker, and as an agent see it."""

    def __init__(self, settings: Settings) -> None:
        self.rasa = httpx.Client(base_url=settings.rasa_base_url, timeout=60)
        assert settings.rasa_api_token is not None
        self.token = settings.rasa_api_token.get_secret_value()
        self.secret = conversation_secret(settings)
        self.api = httpx.Client(base_url=f"http://{settings.host}:{settings.api_port}", timeout=60)
        with session_scope(prepare(settings)) as session:
            create_agent(session, email=AGENT_EMAIL, name="Bench", password=AGENT_PASSWORD)
        signed_in = self.api.post(
            "/api/auth/token", json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD}
        )
        self.api.headers["Authorization"] = f"Bearer {signed_in.json()['access_token']}"

    def say(self, sender: str, text: str) -> list[str]:
        response = self.rasa.post(
            "/webhooks/rest/webhook", json={"sender": sender, "message": text}
        )
        response.raise_for_status()
        return [str(message.get("text") or "") for message in response.json()]

    def tracker(self, sender: str) -> dict[str, Any]:
        response = self.rasa.get(f"/conversations/{sender}/tracker", params={"token": self.token})
        response.raise_for_status()
        tracker: dict[str, Any] = response.json()
        return tracker

    def resolve(self, sender: str, *, timeout: float = 30) -> None:
        """Resolve the conversation's ticket as an agent, and wait for the bot to say so."""
        ticket_id = self.tracker(sender)["slots"].get("ticket_id")
        self.api.post(f"/api/tickets/{ticket_id}/status", json={"status": "resolved"})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(_response(e) == "utter_ask_csat" for e in self.tracker(sender)["events"]):
                return
            time.sleep(0.2)


def _response(event: dict[str, Any]) -> str | None:
    if event.get("event") != "bot":
        return None
    return (event.get("metadata") or {}).get("utter_action")


def observe(turn: Turn, events: list[dict[str, Any]], slots: dict[str, Any]) -> None:
    """What the bot did in ``events`` (this turn's), as one move."""
    found: set[str] = set()
    for event in events:
        response = _response(event)
        if response in MOVES_BY_RESPONSE:
            found.add(MOVES_BY_RESPONSE[response])
        elif response and response.startswith("utter_ticket_status_"):
            found.add("status")
        if event.get("event") == "bot":
            buttons = (event.get("data") or {}).get("buttons") or []
            turn.choices += [
                b["payload"].split('"')[-2] for b in buttons if "faq_entry" in b["payload"]
            ]
        if (
            event.get("event") == "slot"
            and event.get("name") == "last_faq_entry"
            and event.get("value")
        ):
            found.add(f"answer:{event['value']}")
    answers = sorted(move for move in found if move.startswith("answer:"))
    for kind in MOVE_ORDER:
        if kind == "answer" and answers:
            turn.move = answers[0]
            break
        if kind in found:
            turn.move = kind
            break
    else:
        turn.move = sorted(found)[0] if found else "silent"
    turn.language = slots.get("language")
    for event in events:
        if event.get("event") == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            turn.intent = f"{intent.get('name')} {float(intent.get('confidence') or 0):.2f}"


def play(stack: Stack, conversation: dict[str, Any], set_name: str) -> list[Turn]:
    sender = sign(f"{conversation['id']}-{uuid.uuid4().hex[:8]}", stack.secret)
    turns = []
    seen = 0
    for said, expected in conversation["turns"]:
        turn = Turn(
            conversation=conversation["id"],
            set_name=set_name,
            lang=conversation["lang"],
            reply_lang=conversation.get("reply_lang", conversation["lang"]),
            said=said,
            expected=["csat_prompt"] if said == AGENT else str(expected).split("|"),
        )
        if said == AGENT:
            stack.resolve(sender)
        else:
            turn.replies = stack.say(sender, said)
        tracker = stack.tracker(sender)
        observe(turn, tracker["events"][seen:], tracker["slots"])
        seen = len(tracker["events"])
        turns.append(turn)
    return turns


def rate(turns: list[Turn]) -> str:
    right = sum(turn.right for turn in turns)
    return f"{right / len(turns):.2f} ({right}/{len(turns)})" if turns else "-"


def report(turns: list[Turn]) -> dict[str, Any]:
    by_lang: dict[str, list[Turn]] = defaultdict(list)
    by_kind: dict[str, list[Turn]] = defaultdict(list)
    for turn in turns:
        by_lang[turn.lang if turn.lang in SUPPORTED else "other"].append(turn)
        by_kind[turn.kind].append(turn)
    faq_turns = [t for t in turns if t.kind == "answer" or t.move.startswith("answer:")]
    wrong_answers = [t for t in faq_turns if t.move.startswith("answer:") and not t.move_right]
    unasked = [t for t in turns if t.move == "ticket" and "ticket" not in t.expected]
    decline_turns = [t for t in turns if t.kind == "decline"]
    foreign = [t for t in turns if t.lang not in SUPPORTED]
    return {
        "turns": len(turns),
        "right_move": rate(turns),
        "move_right_ignoring_language": f"{sum(t.move_right for t in turns)}/{len(turns)}",
        "per_language": {lang: rate(by_lang[lang]) for lang in [*SUPPORTED, "other"]},
        "per_expected_move": {kind: rate(group) for kind, group in sorted(by_kind.items())},
        "wrong_faq_answers": f"{len(wrong_answers)}/{len(faq_turns)}",
        "answered_only_by_a_suggestion": sum(t.move == "suggest" and t.right for t in faq_turns),
        "suggestions_on_declines": (
            f"{sum(t.move == 'suggest' for t in decline_turns)}/{len(decline_turns)}"
        ),
        "tickets_nobody_asked_for": len(unasked),
        "unsupported_languages_get_default": (
            f"{sum(t.language_right for t in foreign)}/{len(foreign)}"
        ),
        "moves": dict(Counter(t.move.split(":")[0] for t in turns)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=sorted(SETS))
    parser.add_argument("--json", type=Path, help="write the report and every turn here")
    args = parser.parse_args()
    chosen = [args.only] if args.only else list(SETS)
    played: list[Turn] = []
    with throwaway_stack() as (settings, _):
        stack = Stack(settings)
        for set_name in chosen:
            document = yaml.safe_load(SETS[set_name].read_text(encoding="utf-8"))
            for conversation in document["conversations"]:
                played += play(stack, conversation, set_name)
    reports = {name: report([t for t in played if t.set_name == name]) for name in chosen}
    for name, figures in reports.items():
        conversations = len({t.conversation for t in played if t.set_name == name})
        print(f"\n== {name}: {conversations} conversations ==")
        for key, value in figures.items():
            print(f"{key:<36} {value}")
    print("\n== wrong exchanges ==")
    for turn in played:
        if not turn.right:
            got = turn.move + ("" if turn.language_right else f" in {turn.language}")
            expected = "|".join(turn.expected)
            print(f"[{turn.set_name} {turn.conversation}] {turn.said[:70]!r}: "
                  f"expected {expected}, got {got} (NLU: {turn.intent})")  # fmt: skip
    if args.json:
        args.json.write_text(
            json.dumps({"reports": reports, "turns": [asdict(t) for t in played]}, indent=1,
                       ensure_ascii=False),
            encoding="utf-8",
        )  # fmt: skip


if __name__ == "__main__":
    main()
