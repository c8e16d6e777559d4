"""The whole story in a real browser: a customer in the widget, an agent in the console."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import sessionmaker

from core.settings import PROJECT_ROOT, Settings
from escalation.auth import agent_by_email, create_agent
from escalation.db import make_engine, session_scope
from escalation.models import Role

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "console secret words"
HOSTILE = '<img src=x onerror="window.__pwned = 1"><script>window.__pwned = 2</script>'


def ensure_agent(stack: Settings) -> None:
    engine = make_engine(stack.database)
    with session_scope(sessionmaker(engine)) as session:
        if agent_by_email(session, email="maria@example.com") is None:
            create_agent(session, email="maria@example.com", name="Maria Lopes", password=PASSWORD)
    engine.dispose()


def serious_accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's findings of serious or critical impact on the page as it is now."""
    # Evaluated by the browser's debugger protocol: the console's CSP rightly refuses the
    # inline script tag add_script_tag would insert.
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result: dict[str, Any] = page.evaluate("() => axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def bot_says(widget: Page, text: str) -> None:
    expect(widget.locator(".hdw-bot", has_text=text).last).to_be_visible(timeout=60_000)


def test_customer_in_widget_agent_in_console(
    running_stack: Settings, browser: Browser, artifacts: Path
) -> None:
    ensure_agent(running_stack)
    site = f"http://{running_stack.host}:{running_stack.api_port}"

    # The agent signs in first and watches the queue.
    console = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    console.goto(f"{site}/console")
    console.get_by_label("Email").fill("maria@example.com")
    console.get_by_label("Password").fill(PASSWORD)
    console.get_by_role("button", name="Sign in").click()
    expect(console.get_by_text("Maria Lopes · maria@example.com")).to_be_visible()
    expect(console.locator("#sign-in-view")).to_be_hidden()
    expect(console.locator("#live")).to_have_text("live")

    # A customer opens the chat on the website and asks an FAQ question.
    customer = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    widget = customer.new_page()
    widget.goto(site)
    widget.get_by_role("button", name="Open chat").click()
    bot_says(widget, "Northwind assistant")
    widget.get_by_label("Your message").fill("how long does delivery take")
    widget.keyboard.press("Enter")
    bot_says(widget, "working day")
    expect(widget.get_by_role("button", name="Yes")).to_be_visible()
    widget.screenshot(path=str(artifacts / "widget-faq-answer.png"))

    # ... then asks for a person; the answer's buttons are stale from then on.
    widget.get_by_label("Your message").fill("I want to talk to a human")
    widget.keyboard.press("Enter")
    bot_says(widget, "Your ticket is #")
    expect(widget.get_by_role("button", name="Yes")).to_be_disabled()
    notice = widget.locator(".hdw-bot", has_text="Your ticket is #").last.inner_text()
    ticket_id = int(re.search(r"#(\d+)", notice).group(1))  # type: ignore[union-attr]
    widget.get_by_label("Your message").fill(HOSTILE)
    widget.keyboard.press("Enter")
    widget.get_by_role("button", name="Close chat").click()  # the customer looks away

    # The ticket appears in the console without a reload; the agent reads and replies.
    entry = console.locator(f'[data-ticket="{ticket_id}"]')
    expect(entry).to_be_visible(timeout=30_000)
    expect(entry.locator(".sla")).to_contain_text("First response due in 3 h")  # of 4 open hours
    console.locator("#filter-language").select_option("de")
    expect(entry).to_be_hidden()
    console.locator("#filter-language").select_option("en")
    console.locator("#filter-priority").select_option("normal")
    expect(entry).to_be_visible()
    entry.click()
    expect(console.locator("#ticket-title")).to_have_text(
        f"Ticket #{ticket_id} · Waiting for agent"
    )
    facts = console.locator("#ticket-facts")
    expect(facts).to_contain_text("customer_request")
    expect(facts).to_contain_text("en (confidence")
    transcript = console.locator("#transcript")
    expect(
        transcript.locator(".turn-customer", has_text="how long does delivery take")
    ).to_be_visible()
    expect(transcript.locator(".turn-bot", has_text="working day")).to_be_visible()
    expect(transcript.locator(".turn-customer", has_text=HOSTILE)).to_be_visible(timeout=30_000)
    expect(transcript.locator(".turn-system", has_text="Handed to a person")).to_be_visible()
    expect(console.locator("#tried-list")).to_contain_text("answered: How long does delivery take")
    expect(entry.locator(".preview")).to_contain_text("<img")  # the latest question, as text
    assert console.evaluate("() => window.__pwned") is None, "customer text ran as markup"

    console.get_by_label("Internal note (not sent)").fill("Checked the carrier.")
    console.get_by_role("button", name="Add note").click()
    expect(transcript.locator(".turn-note", has_text="Checked the carrier.")).to_be_visible()
    # Three panes side by side: queue | conversation | details (priority, facts, actions).
    boxes = [console.locator(pane).bounding_box() for pane in (".queue", "#ticket", "#details")]
    assert all(boxes) and boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]  # type: ignore[index]
    console.locator("#priority").select_option("high")
    expect(
        transcript.locator(".turn-system", has_text="Priority normal → high by Maria")
    ).to_be_visible()
    expect(facts.locator(".sla")).to_contain_text(re.compile(r"First response due in \d{1,2} min"))
    expect(entry).to_be_hidden()  # the queue still shows normal priority only
    expect(console.locator("#email-transcript")).to_be_disabled()  # no address in the chat
    console.get_by_label("Canned reply").select_option(label="Order number please")
    expect(console.get_by_label("Reply to the customer")).to_have_value(
        re.compile(rf"Could you send me your order number.*#{ticket_id} right away")
    )
    console.get_by_label("Reply to the customer").fill("")  # not this one after all
    console.locator("#transcript").focus()
    console.keyboard.press("r")  # the reply box, by keyboard; Ctrl+Enter sends
    expect(console.get_by_label("Reply to the customer")).to_be_focused()
    console.keyboard.type("Hi, Maria here. Your parcel ships today.")
    console.keyboard.press("Control+Enter")
    unread = widget.get_by_role("button", name="Open chat (2 unread messages)")
    expect(unread).to_be_visible(timeout=30_000)  # pick-up notice and reply, while closed
    unread.click()
    bot_says(widget, "Maria from our team has picked up your ticket")
    agent_says = widget.locator(".hdw-agent", has_text="Your parcel ships today.")
    expect(agent_says).to_be_visible()
    expect(agent_says.locator(".hdw-from")).to_have_text("Maria · support team")
    expect(widget.locator(".hdw-badge")).to_be_hidden()
    assert widget.locator(".hdw-bot", has_text="Checked the carrier.").count() == 0
    console.screenshot(path=str(artifacts / "console-ticket.png"), full_page=True)

    # Resolved ("e" on the ticket): the bot is back and asks for a rating.
    expect(console.get_by_label("Reply to the customer")).to_have_value("")  # sent
    console.locator("#ticket-title").focus()
    console.keyboard.press("e")
    bot_says(widget, "How satisfied are you")
    ratings = widget.locator(".hdw-replies").last.get_by_role("button")
    expect(ratings).to_have_text(["1", "2", "3", "4", "5"])
    widget.screenshot(path=str(artifacts / "widget-csat.png"))

    # A reload keeps the conversation and its history.
    widget.reload()
    expect(widget.locator(".hdw-agent", has_text="Your parcel ships today.")).to_be_visible()
    expect(widget.locator(".hdw-user", has_text=HOSTILE)).to_be_visible()
    assert widget.evaluate("() => window.__pwned") is None
    ratings = widget.locator(".hdw-replies").last.get_by_role("button", name="4")
    ratings.click()
    bot_says(widget, "Thank you for your rating!")

    assert serious_accessibility_violations(widget) == []
    assert serious_accessibility_violations(console) == []
    customer.close()


def test_the_analytics_page_draws_its_charts_from_what_happened(
    running_stack: Settings, browser: Browser, artifacts: Path
) -> None:
    """After the story above (an FAQ answer, a ticket, a rating), the page shows it: tiles,
    four charts drawn by Chart.js from node_modules, tables, and no CSP refusal."""
    ensure_agent(running_stack)
    site = f"http://{running_stack.host}:{running_stack.api_port}"
    page = browser.new_context(viewport={"width": 1280, "height": 1400}).new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if m.type == "error" else None)
    page.goto(f"{site}/console")
    page.get_by_label("Email").fill("maria@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Maria Lopes · maria@example.com")).to_be_visible()
    page.get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", name="Analytics", level=1)).to_be_visible()
    kpis = page.locator("#kpis")
    expect(kpis).to_contain_text("Conversations")
    conversations = int(kpis.locator(".kpi dd").first.inner_text())
    assert conversations >= 1
    expect(kpis).to_contain_text("from 1 ratings")  # the 4 stars given in the widget
    for chart in ("volume-chart", "rates-chart", "csat-chart", "reasons-chart"):
        drawn = page.evaluate("id => Chart.getChart(id)?.data.datasets.length ?? 0", chart)
        assert drawn >= 1, chart
    csat = page.evaluate("() => Chart.getChart('csat-chart').data.datasets[0].data")
    assert csat == [0, 0, 0, 1, 0]
    expect(page.locator("#entries")).to_contain_text("shipping-time")
    expect(page.locator("#languages")).to_contain_text("en")
    page.screenshot(path=str(artifacts / "console-analytics.png"), full_page=True)
    assert serious_accessibility_violations(page) == []
    assert refused == []


def test_an_editor_publishes_an_faq_entry_and_the_widget_answers_with_it(
    running_stack: Settings, browser: Browser, artifacts: Path
) -> None:
    engine = make_engine(running_stack.database)
    with session_scope(sessionmaker(engine)) as session:
        if agent_by_email(session, email="edith@example.com") is None:
            create_agent(
                session,
                email="edith@example.com",
                name="Edith",
                password=PASSWORD,
                role=Role.EDITOR,
            )
    engine.dispose()
    site = f"http://{running_stack.host}:{running_stack.api_port}"
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{site}/console")
    page.get_by_label("Email").fill("edith@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Edith · edith@example.com")).to_be_visible()
    page.get_by_role("link", name="FAQ").click()
    page.get_by_role("button", name="New entry").click()
    page.get_by_label("Entry id").fill("loyalty-points")
    page.get_by_label("Question").fill("Do you have a loyalty programme?")
    page.get_by_label("Other ways customers ask it").fill("do I collect points\nloyalty card")
    page.get_by_label("Answer").fill("Yes: every euro is a point, 100 points are 5 euro off.")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(
        "Published: the bot answers with it within seconds."
    )
    expect(page.locator("#history")).to_contain_text("published by Edith")
    page.screenshot(path=str(artifacts / "console-faq.png"), full_page=True)
    assert serious_accessibility_violations(page) == []

    widget = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US").new_page()
    widget.goto(site)
    widget.get_by_role("button", name="Open chat").click()
    answers = widget.locator(".hdw-bot", has_text="100 points are 5 euro off")
    for attempt in range(4):  # the action server takes the entry in within a second or two
        widget.get_by_label("Your message").fill("do you have a loyalty programme")
        widget.keyboard.press("Enter")
        asked = widget.locator(".hdw-user", has_text="do you have a loyalty programme")
        expect(asked).to_have_count(attempt + 1)
        widget.wait_for_timeout(2000)
        if answers.count():
            break
    expect(answers.last).to_be_visible()


def test_widget_fills_a_phone_screen_and_works_by_keyboard(
    running_stack: Settings, browser: Browser, artifacts: Path
) -> None:
    phone = browser.new_context(
        viewport={"width": 375, "height": 667}, locale="nl-NL", is_mobile=True
    )
    widget = phone.new_page()
    widget.goto(f"http://{running_stack.host}:{running_stack.api_port}/")
    launcher = widget.get_by_role("button", name="Chat openen")
    launcher.focus()
    widget.keyboard.press("Enter")
    panel = widget.locator("#hdw-panel")
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box is not None and box["width"] == 375 and box["height"] == 667
    expect(widget.get_by_label("Je bericht")).to_be_focused()
    bot_says(widget, "Hallo! Ik ben de assistent van Northwind.")  # the page's locale
    expect(widget.get_by_role("heading", name="Vragen over je bestelling?")).to_be_visible()
    widget.keyboard.type("wachtwoord vergeten")
    widget.keyboard.press("Enter")
    bot_says(widget, "Heeft dit je vraag beantwoord?")
    widget.screenshot(path=str(artifacts / "widget-phone.png"))
    widget.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_be_focused()
    phone.close()


def test_the_api_docs_work_offline_under_the_security_policy(
    running_stack: Settings, browser: Browser
) -> None:
    page = browser.new_context().new_page()
    refused: list[str] = []
    page.on(
        "console", lambda message: refused.append(message.text) if message.type == "error" else None
    )
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    site = f"http://{running_stack.host}:{running_stack.api_port}"
    page.goto(f"{site}/docs")
    expect(page.get_by_role("heading", name="Helpdesk assistant API")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("/api/tickets/{ticket_id}/replies")).to_be_visible()
    assert refused == []
    assert all(url.startswith(site) for url in requested), "nothing from a CDN"
    page.context.close()
