"""A widget message that Rasa took but never answered, because it died, is sent again."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest
from playwright.sync_api import Browser, Page

from core.settings import Settings
from helpdesk.supervisor import ManagedProcess, ProcessGroup
from tests.browser.test_widget_and_console import bot_says

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

#: The widget's saved state (bot/widget/widget.js).
STATE = "JSON.parse(localStorage.getItem('helpdesk-widget'))"
QUESTION = "how long does delivery take for a parcel to Belgium"


def process_named(group: ProcessGroup, name: str) -> ManagedProcess:
    return next(p for p in group.processes if p.name == name)


def pending(widget: Page) -> list[dict[str, str]]:
    """The messages the widget keeps until the server acknowledges them."""
    return list(widget.evaluate(f"() => {STATE}.pending"))


def customer_messages(stack: Settings, conversation: str, text: str) -> int:
    """How many times the conversation's tracker holds the customer's message ``text``."""
    token = stack.rasa_api_token.get_secret_value() if stack.rasa_api_token else ""
    url = f"http://{stack.host}:{stack.rasa_port}/conversations/{conversation}/tracker"
    events = httpx.get(url, params={"token": token}, timeout=30).json()["events"]
    return sum(e["event"] == "user" and e.get("text") == text for e in events)


def test_a_message_rasa_died_on_is_answered_once_after_the_restart(
    running_stack: Settings, stack_processes: ProcessGroup, browser: Browser
) -> None:
    site = f"http://{running_stack.host}:{running_stack.api_port}"
    widget = browser.new_context(locale="en-US").new_page()
    widget.goto(site)
    widget.get_by_role("button", name="Open chat").click()
    bot_says(widget, "Northwind assistant")
    conversation = widget.evaluate(f"() => {STATE}.sessionId")
    assert not pending(widget)

    actions = process_named(stack_processes, "action server")
    rasa = process_named(stack_processes, "Rasa server")
    assert actions.pid is not None
    os.kill(actions.pid, signal.SIGSTOP)  # Rasa waits for it in the middle of the turn
    try:
        widget.get_by_label("Your message").fill(QUESTION)
        widget.keyboard.press("Enter")
        assert [m["payload"] for m in pending(widget)] == [QUESTION]
        time.sleep(2)  # Rasa has the message and is waiting for the action server
        rasa.kill()  # nothing of the turn was saved; the widget's socket is gone
    finally:
        os.kill(actions.pid, signal.SIGCONT)
    rasa.start()
    rasa.wait_healthy(timeout=240)

    bot_says(widget, "working day")  # the widget reconnected and sent it again
    widget.wait_for_function(f"() => {STATE}.pending.length === 0", timeout=30_000)
    assert customer_messages(running_stack, conversation, QUESTION) == 1
