"""Telegram, WhatsApp (Twilio), Messenger and Slack end to end: the real Rasa server, action
server and API; each platform's server stood in for on loopback (tests/e2e/platforms.py),
its webhooks posted as the platform posts them, signed its way.

For each: a question is answered in the customer's language, with the follow-up's options
in the platform's form; asking for a person makes a ticket showing the channel and the
contact, and the agent's reply arrives on the platform, retried while the platform fails;
a forged webhook changes nothing; a retried webhook is answered once.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass

import httpx
import pytest

from core.settings import Settings
from tests.e2e import platforms
from tests.e2e.clients import eventually, ticket_number
from tests.e2e.platforms import CREDENTIALS, Sent, StandIn

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_ids = itertools.count(random.randrange(10**6, 10**8))


@dataclass
class Said:
    """What the bot sent a customer in one platform call."""

    text: str
    options: list[str]  # button titles, quick replies; numbered lines stay in the text


class Platform:
    """A customer on one platform: posts its webhooks, reads what the stand-in received."""

    name = ""
    stand_in_name = ""
    channel = ""  # Rasa's channel name, on the ticket

    def __init__(self, stack: Settings, stand_in: StandIn) -> None:
        self.url = f"http://{stack.host}:{stack.rasa_port}/webhooks/{self.channel}/webhook"
        self.stand_in = stand_in
        self.user = str(next(_ids))

    def say(self, text: str, *, message_id: str | None = None, forged: bool = False) -> int:
        """Post the customer's message; the webhook's HTTP status."""
        raise NotImplementedError

    def to_customer(self, sent: Sent) -> Said | None:
        raise NotImplementedError

    def said(self) -> list[Said]:
        """Everything sent to this customer so far, oldest first."""
        found = (self.to_customer(sent) for sent in self.stand_in.sent_to(self.stand_in_name))
        return [said for said in found if said is not None]

    def said_after(self, count: int, at_least: int = 1) -> list[Said]:
        return eventually(lambda: s[count:] if len(s := self.said()) >= count + at_least else None)


class Telegram(Platform):
    name, stand_in_name, channel = "telegram", "telegram", "telegram"

    def say(self, text: str, *, message_id: str | None = None, forged: bool = False) -> int:
        update_id = int(message_id or next(_ids))
        update = platforms.telegram_update(update_id, int(self.user), text, language="el")
        secret = "guess" if forged else CREDENTIALS["telegram_secret_token"]
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
        return httpx.post(self.url, json=update, headers=headers, timeout=60).status_code

    def press(self, data: str) -> int:
        update = platforms.telegram_button_press(next(_ids), int(self.user), data)
        headers = {"X-Telegram-Bot-Api-Secret-Token": CREDENTIALS["telegram_secret_token"]}
        return httpx.post(self.url, json=update, headers=headers, timeout=60).status_code

    def to_customer(self, sent: Sent) -> Said | None:
        if sent.body.get("chat_id") != self.user:
            return None
        markup = json.loads(sent.body.get("reply_markup") or "{}")
        rows = markup.get("inline_keyboard") or []
        return Said(sent.body["text"], [button["text"] for row in rows for button in row])


class WhatsApp(Platform):
    name, stand_in_name, channel = "whatsapp", "twilio", "twilio"

    def say(self, text: str, *, message_id: str | None = None, forged: bool = False) -> int:
        form = platforms.twilio_form(
            message_id or f"SM{next(_ids):032d}",
            f"whatsapp:+3161{self.user}",
            text,
            to=CREDENTIALS["twilio_number"],
        )
        token = "not-the-token" if forged else CREDENTIALS["twilio_auth_token"]
        headers = {"X-Twilio-Signature": platforms.twilio_signature(token, self.url, form)}
        return httpx.post(self.url, data=form, headers=headers, timeout=60).status_code

    def to_customer(self, sent: Sent) -> Said | None:
        if sent.body.get("To") != f"whatsapp:+3161{self.user}":
            return None
        return Said(sent.body["Body"], [])


class Messenger(Platform):
    name, stand_in_name, channel = "messenger", "graph", "facebook"

    def say(self, text: str, *, message_id: str | None = None, forged: bool = False) -> int:
        mid = message_id or f"m_{next(_ids)}"
        body = json.dumps(platforms.messenger_event(self.user, mid, text)).encode()
        secret = "not-the-secret" if forged else CREDENTIALS["messenger_app_secret"]
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": platforms.messenger_signature(secret, body),
        }
        return httpx.post(self.url, content=body, headers=headers, timeout=60).status_code

    def to_customer(self, sent: Sent) -> Said | None:
        if sent.body.get("recipient", {}).get("id") != self.user:
            return None
        message = sent.body["message"]
        return Said(message["text"], [q["title"] for q in message.get("quick_replies") or []])


class Slack(Platform):
    name, stand_in_name, channel = "slack", "slack", "slack"

    def __init__(self, stack: Settings, stand_in: StandIn) -> None:
        super().__init__(stack, stand_in)
        self.dm_channel = f"D{self.user}"
        self.user = f"U{self.user}"

    def say(self, text: str, *, message_id: str | None = None, forged: bool = False) -> int:
        event = platforms.slack_event(
            message_id or f"Ev{next(_ids)}", self.user, text, channel=self.dm_channel
        )
        body = json.dumps(event).encode()
        secret = "not-the-secret" if forged else CREDENTIALS["slack_signing_secret"]
        headers = platforms.slack_headers(secret, body)
        return httpx.post(self.url, content=body, headers=headers, timeout=60).status_code

    def to_customer(self, sent: Sent) -> Said | None:
        if sent.body.get("channel") not in (self.user, self.dm_channel):
            return None
        blocks = sent.body.get("blocks") or []
        titles = [e["text"]["text"] for b in blocks for e in b.get("elements") or []]
        return Said(sent.body["text"], titles)


PLATFORMS = [Telegram, WhatsApp, Messenger, Slack]


@pytest.fixture(params=PLATFORMS, ids=lambda p: p.name)
def customer(
    request: pytest.FixtureRequest, running_stack: Settings, platform_stand_in: StandIn
) -> Platform:
    platform: Platform = request.param(running_stack, platform_stand_in)
    return platform


def test_question_answered_with_the_follow_up_in_the_platform_form(customer: Platform) -> None:
    before = len(customer.said())
    assert customer.say("how long does delivery take?") in (200, 204)
    answer, follow_up = customer.said_after(before, at_least=2)[:2]
    assert "deliver" in answer.text.lower() or "business days" in answer.text.lower()
    assert follow_up.text.startswith("Did this answer your question?")
    if isinstance(customer, WhatsApp):  # no buttons: numbered lines, and "2" answers the second
        assert follow_up.text.endswith("1. Yes\n2. No")
        assert follow_up.options == []
    else:
        assert follow_up.options == ["Yes", "No"]


def test_numbered_answer_picks_the_option(
    running_stack: Settings, platform_stand_in: StandIn
) -> None:
    customer = WhatsApp(running_stack, platform_stand_in)
    customer.say("how long does delivery take?")
    before = len(customer.said_after(0, at_least=2))
    customer.say("2")  # "No": the answer did not help
    [offer] = customer.said_after(before)
    assert offer.text.startswith("I'm sorry, I couldn't find an answer to that.")


def test_telegram_button_press_answers_with_its_number(
    running_stack: Settings, platform_stand_in: StandIn
) -> None:
    customer = Telegram(running_stack, platform_stand_in)
    customer.say("Πόσο καιρό κάνει η παράδοση;")
    answer, follow_up = customer.said_after(0, at_least=2)[:2]
    assert not answer.text.isascii()  # Greek, as the customer wrote and Telegram's hint says
    assert follow_up.options and all(not o.isascii() for o in follow_up.options)
    customer.press("2")
    [offer] = customer.said_after(2)
    assert offer.options  # a person is offered, with its own options


def test_person_requested_ticket_shows_channel_and_contact_and_agent_reply_arrives(
    customer: Platform, agent: httpx.Client, platform_stand_in: StandIn
) -> None:
    before = len(customer.said())
    customer.say("I want to talk to a human")
    [created] = customer.said_after(before)
    ticket = agent.get(f"/api/tickets/{ticket_number(created.text)}").json()
    assert ticket["channel"] == customer.channel
    assert customer.user.lstrip("U") in (ticket["contact"] or "")
    listed = agent.get("/api/tickets", params={"channel": customer.channel}).json()
    assert ticket["id"] in [row["id"] for row in listed]

    customer.say("the parcel number is 48213")  # during the handoff: to the ticket, bot quiet
    eventually(lambda: "the parcel number is 48213" in transcript_texts(agent, ticket["id"]))
    assert len(customer.said()) == before + 1

    platform_stand_in.fail_next(customer.stand_in_name, 2)  # the platform is down a while
    count = len(customer.said())
    reply = agent.post(f"/api/tickets/{ticket['id']}/replies", json={"text": "Let me look."})
    assert reply.status_code in (200, 201), reply.text
    said = [s.text for s in customer.said_after(count, at_least=2)]
    assert said[:2] == [
        f"Anna from our team has picked up your ticket #{ticket['id']}.",
        "Anna: Let me look.",
    ]


def transcript_texts(agent: httpx.Client, ticket_id: int) -> list[str]:
    return [m["text"] for m in agent.get(f"/api/tickets/{ticket_id}").json()["messages"]]


def test_forged_webhook_is_refused_and_changes_nothing(customer: Platform) -> None:
    before = len(customer.said())
    assert customer.say("I want to talk to a human", forged=True) in (401, 403)
    assert customer.say("how long does delivery take?") in (200, 204)  # a real one after it
    answers = customer.said_after(before, at_least=2)
    assert not any("#" in said.text for said in answers)  # no ticket from the forged one


def test_retried_webhook_is_answered_once(customer: Platform) -> None:
    before = len(customer.said())
    message_id = str(next(_ids)) if isinstance(customer, Telegram) else f"retry-{next(_ids)}"
    customer.say("how long does delivery take?", message_id=message_id)
    customer.said_after(before, at_least=2)
    customer.say("how long does delivery take?", message_id=message_id)  # the platform's retry
    customer.say("thanks", message_id=None)  # a new message: answered
    after = customer.said_after(before, at_least=3)
    questions = [s for s in after if s.text.startswith("Did this answer your question?")]
    assert len(questions) == 1, [s.text for s in after]


def test_resolution_brings_the_bot_back_and_its_rating_question_is_answered_there(
    customer: Platform, agent: httpx.Client
) -> None:
    count = len(customer.said())
    customer.say("I want to talk to a human")
    [created] = customer.said_after(count)
    ticket_id = ticket_number(created.text)
    agent.post(f"/api/tickets/{ticket_id}/replies", json={"text": "Sorted, refund sent."})
    count = len(customer.said_after(count, at_least=3)) + count
    resolved = agent.post(f"/api/tickets/{ticket_id}/status", json={"status": "resolved"})
    assert resolved.status_code == 200, resolved.text

    notice, question = customer.said_after(count, at_least=2)[:2]
    assert notice.text == (
        f"Your ticket #{ticket_id} has been resolved. I'm here again if you need anything else."
    )
    if isinstance(customer, WhatsApp):
        assert question.text.endswith("\n".join(f"{n}. {n}" for n in range(1, 6)))
    else:
        assert question.options == ["1", "2", "3", "4", "5"]
    customer.say("5")
    rated = eventually(lambda: agent.get(f"/api/tickets/{ticket_id}").json()["csat"])
    assert rated == 5
