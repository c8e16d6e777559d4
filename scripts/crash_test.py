"""Crash test (#17): kill -9 the action server, Rasa and the API at random moments while
customers write to agents and agents answer, then count what was lost or doubled. Not a unit
test: tests/e2e/test_crash.py runs it with a few kills; run it long by hand.

    .venv/bin/python scripts/crash_test.py --kills 200 --conversations 6 --seed 1

Customers talk on Rasa's REST channel and, like any careful client, send a message again
(same ``metadata.message_id``) until Rasa answers 200; the agent replies through the API and,
when the answer was lost, looks at the ticket before replying again. After the last kill,
the agent sends each ticket one more reply and the queue drains. Then it counts, from the
ticket database and Rasa's trackers:

- customer messages Rasa acknowledged that are not on their ticket (lost) or are there twice;
- agent replies the API acknowledged that the conversation does not hold (lost) or holds twice;
- conversations with more than one ticket.

Exit status 1 when any of these is not 0. Loopback only; bounded by --kills and --max-minutes.
"""

from __future__ import annotations

import argparse
import collections
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx
from benchkit import throwaway_stack
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.identity import new_conversation_id
from core.settings import Settings, conversation_secret
from escalation.auth import create_agent
from escalation.db import prepare, session_scope
from escalation.models import Author, Delivery, Ticket, TranscriptMessage
from helpdesk.supervisor import ManagedProcess

PASSWORD = "kill nine, start again 42"
#: How long a client keeps sending one message again before it gives up (and counts it).
RETRY_FOR_SECONDS = 300.0


@dataclass
class Ledger:
    """What clients were told was accepted; shared by the workload threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    customer_messages: dict[str, list[str]] = field(default_factory=dict)  # sender -> texts
    agent_replies: dict[int, list[str]] = field(default_factory=dict)  # ticket id -> texts
    gave_up: int = 0

    def customer_said(self, sender: str, text: str) -> None:
        with self.lock:
            self.customer_messages.setdefault(sender, []).append(text)

    def agent_said(self, ticket_id: int, text: str) -> None:
        with self.lock:
            self.agent_replies.setdefault(ticket_id, []).append(text)


class Customer:
    """A REST customer who sends a message again, with the same id, until Rasa takes it."""

    def __init__(self, settings: Settings, sender: str, ledger: Ledger) -> None:
        self.sender = sender
        self._url = f"http://{settings.host}:{settings.rasa_port}/webhooks/rest/webhook"
        self._ledger = ledger

    def say(self, text: str) -> bool:
        body = {
            "sender": self.sender,
            "message": text,
            "metadata": {"message_id": uuid.uuid4().hex},
        }
        deadline = time.monotonic() + RETRY_FOR_SECONDS
        while time.monotonic() < deadline:
            try:
                if httpx.post(self._url, json=body, timeout=60).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(1.0)
        with self._ledger.lock:
            self._ledger.gave_up += 1
        return False


class Agent:
    """One agent on the API: replies, and on a lost answer checks the ticket first."""

    def __init__(self, settings: Settings, ledger: Ledger) -> None:
        self._client = httpx.Client(
            base_url=f"http://{settings.host}:{settings.api_port}", timeout=60
        )
        self._ledger = ledger
        self._sign_in()

    def _sign_in(self) -> None:
        response = self._call(
            "POST", "/api/auth/token", json={"email": "crash@example.com", "password": PASSWORD}
        )
        self._client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def _call(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        """The API's answer, waiting through its restarts (connection refused)."""
        deadline = time.monotonic() + RETRY_FOR_SECONDS
        while True:
            try:
                response = self._client.request(method, url, **kwargs)  # type: ignore[arg-type]
                if response.status_code < 500:
                    return response
            except httpx.ConnectError:  # not sent: safe to send again
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"API not back after {RETRY_FOR_SECONDS:.0f}s")
            time.sleep(1.0)

    def reply(self, ticket_id: int, text: str) -> None:
        while True:
            try:
                response = self._call(
                    "POST", f"/api/tickets/{ticket_id}/replies", json={"text": text}
                )
            except httpx.HTTPError:  # sent, answer lost: did it land?
                if text in self.ticket_texts(ticket_id, Author.AGENT):
                    break
                continue
            if response.status_code == 401:
                self._sign_in()
                continue
            response.raise_for_status()
            break
        self._ledger.agent_said(ticket_id, text)

    def ticket_texts(self, ticket_id: int, author: Author) -> list[str]:
        while True:
            try:
                ticket = self._call("GET", f"/api/tickets/{ticket_id}").json()
                return [m["text"] for m in ticket["messages"] if m["author"] == author.value]
            except httpx.HTTPError:
                time.sleep(1.0)


def ticket_of(sessions: sessionmaker[Session], sender: str) -> int | None:
    with session_scope(sessions) as session:
        return session.scalar(select(Ticket.id).where(Ticket.conversation_id == sender))


def customer_loop(
    customer: Customer,
    ledger: Ledger,
    sessions: sessionmaker[Session],
    stop: threading.Event,
    rng: random.Random,
) -> None:
    """Ask for a person until there is a ticket, then keep writing."""
    while ticket_of(sessions, customer.sender) is None and not stop.is_set():
        customer.say("I want to talk to a human")
        time.sleep(0.5)
    number = 0
    while not stop.is_set():
        number += 1
        text = f"{customer.sender} message {number}"
        if customer.say(text):
            ledger.customer_said(customer.sender, text)
        time.sleep(rng.uniform(1.5, 3.0))  # under the channel's 30 messages a minute


def agent_loop(
    agent: Agent,
    senders: list[str],
    sessions: sessionmaker[Session],
    stop: threading.Event,
    rng: random.Random,
) -> None:
    number = 0
    while not stop.is_set():
        sender = rng.choice(senders)
        ticket_id = ticket_of(sessions, sender)
        if ticket_id is not None:
            number += 1
            agent.reply(ticket_id, f"agent reply {number} to {sender}")
        time.sleep(rng.uniform(0.3, 2.0))


def kill_and_restart(process: ManagedProcess) -> None:
    process.kill()
    process.start()
    process.wait_healthy(240)


def drain(sessions: sessionmaker[Session], timeout: float) -> int:
    """Wait until every delivery is marked delivered; how many are left."""
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(sessions) as session:
            left = len(
                session.scalars(select(Delivery.id).where(Delivery.delivered_at.is_(None))).all()
            )
        if left == 0 or time.monotonic() > deadline:
            return left
        time.sleep(1.0)


def said_in_conversation(settings: Settings, sender: str) -> list[str]:
    """What the bot said in the conversation, from Rasa's stored tracker."""
    token = settings.rasa_api_token.get_secret_value() if settings.rasa_api_token else ""
    response = httpx.get(
        f"http://{settings.host}:{settings.rasa_port}/conversations/{sender}/tracker",
        params={"token": token, "include_events": "ALL"},
        timeout=60,
    )
    response.raise_for_status()
    events = response.json().get("events") or []
    return [str(e.get("text") or "") for e in events if e.get("event") == "bot"]


def count(settings: Settings, sessions: sessionmaker[Session], ledger: Ledger) -> dict[str, int]:
    counts: collections.Counter[str] = collections.Counter()
    with session_scope(sessions) as session:
        for sender, texts in ledger.customer_messages.items():
            ticket_ids = session.scalars(
                select(Ticket.id).where(Ticket.conversation_id == sender)
            ).all()
            counts["duplicate tickets"] += max(0, len(ticket_ids) - 1)
            on_tickets = collections.Counter(
                session.scalars(
                    select(TranscriptMessage.text).where(
                        TranscriptMessage.ticket_id.in_(ticket_ids),
                        TranscriptMessage.author == Author.CUSTOMER,
                    )
                ).all()
            )
            counts["customer messages acknowledged"] += len(texts)
            counts["customer messages lost"] += sum(1 for t in texts if on_tickets[t] == 0)
            counts["customer messages doubled"] += sum(1 for t in texts if on_tickets[t] > 1)
    for ticket_id, replies in ledger.agent_replies.items():
        with session_scope(sessions) as session:
            sender = session.get(Ticket, ticket_id).conversation_id  # type: ignore[union-attr]
        said = collections.Counter(said_in_conversation(settings, sender))
        counts["agent replies acknowledged"] += len(replies)
        counts["agent replies lost"] += sum(1 for r in replies if said[r] == 0)
        counts["agent replies doubled"] += sum(1 for r in replies if said[r] > 1)
    counts["customer messages given up"] = ledger.gave_up
    return dict(counts)


MUST_BE_ZERO = (
    "customer messages lost",
    "customer messages doubled",
    "agent replies lost",
    "agent replies doubled",
    "duplicate tickets",
    "customer messages given up",
)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--conversations", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-minutes", type=float, default=120.0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.monotonic()
    with throwaway_stack() as (settings, processes):
        sessions = prepare(settings)
        with session_scope(sessions) as session:
            create_agent(session, email="crash@example.com", name="Crash Test", password=PASSWORD)
        ledger, stop = Ledger(), threading.Event()
        secret = conversation_secret(settings)
        senders = [new_conversation_id(secret) for _ in range(args.conversations)]
        agent = Agent(settings, ledger)
        threads = [
            threading.Thread(
                target=customer_loop,
                args=(
                    Customer(settings, sender, ledger),
                    ledger,
                    sessions,
                    stop,
                    random.Random(rng.random()),
                ),
            )
            for sender in senders
        ]
        threads.append(
            threading.Thread(
                target=agent_loop,
                args=(agent, senders, sessions, stop, random.Random(rng.random())),
            )
        )
        for thread in threads:
            thread.start()
        kills: collections.Counter[str] = collections.Counter()
        try:
            while sum(kills.values()) < args.kills:
                if time.monotonic() - started > args.max_minutes * 60:
                    print(f"stopped by --max-minutes after {sum(kills.values())} kills")
                    break
                time.sleep(rng.uniform(0.5, 4.0))
                victim = rng.choice(processes)
                kill_and_restart(victim)
                kills[victim.name] += 1
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=RETRY_FOR_SECONDS + 60)
        for sender in senders:  # the agent's last word: the queue must drain after it
            ticket_id = ticket_of(sessions, sender)
            if ticket_id is not None:
                agent.reply(ticket_id, f"last reply to {sender}")
        left = drain(sessions, timeout=600)
        counts = count(settings, sessions, ledger)
        counts["deliveries still queued"] = left
    minutes = (time.monotonic() - started) / 60
    print(f"kills: {dict(kills)} (total {sum(kills.values())}) in {minutes:.1f} min")
    for name, value in counts.items():
        print(f"{name:<32} {value}")
    failed = [name for name in (*MUST_BE_ZERO, "deliveries still queued") if counts.get(name, 0)]
    print("crash test:", "FAILED " + ", ".join(failed) if failed else "0 lost, 0 doubled")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
