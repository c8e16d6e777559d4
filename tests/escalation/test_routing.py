"""Routing a new ticket by language and team to agents online, least loaded or in turn."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session, sessionmaker

from escalation.auth import create_agent
from escalation.db import session_scope
from escalation.models import Agent, Author, Ticket
from escalation.sla import RoutingIn
from escalation.tickets import hand_off
from tests.escalation.test_tickets import escalation

LEAST_LOADED = RoutingIn(teams={"billing": "finance"})
ROUND_ROBIN = RoutingIn(strategy="round_robin")


def agent(
    session: Session,
    name: str,
    languages: list[str],
    team: str | None = None,
    *,
    online: bool = True,
) -> int:
    made: Agent = create_agent(
        session, email=f"{name.lower()}@example.com", name=name, password="a long agent secret"
    )
    made.languages, made.team, made.available = languages, team, online
    session.flush()
    return made.id


def ticket_for(
    sessions: sessionmaker[Session], key: str, routing: RoutingIn, **changes: object
) -> tuple[int | None, list[str]]:
    """A new ticket's assignee and its system lines."""
    made = replace(escalation(key), conversation_id=f"conv-{key}", **changes)  # type: ignore[arg-type]
    ticket_id = hand_off(sessions, made, routing)
    with session_scope(sessions) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        lines = [m.text for m in ticket.messages if m.author == Author.SYSTEM]
        return ticket.assignee_id, lines


def test_a_ticket_goes_to_an_online_agent_who_speaks_its_language(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        agent(session, "Anna", ["en"])
        away = agent(session, "Bram", ["nl"], online=False)
        kees = agent(session, "Kees", ["nl", "en"])
    assignee, lines = ticket_for(sessions, "1", LEAST_LOADED)  # a Dutch ticket
    assert assignee == kees and assignee != away
    assert lines[-1] == "Routed to Kees (nl, least loaded)"


def test_the_least_loaded_agent_gets_the_next_one(sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as session:
        anna = agent(session, "Anna", ["nl"])
        bram = agent(session, "Bram", ["nl"])
    first, _ = ticket_for(sessions, "1", LEAST_LOADED)
    second, _ = ticket_for(sessions, "2", LEAST_LOADED)
    third, _ = ticket_for(sessions, "3", LEAST_LOADED)
    assert [first, second] == [anna, bram] and third in (anna, bram)


def test_round_robin_goes_to_whoever_had_one_longest_ago(sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as session:
        anna = agent(session, "Anna", ["nl"])
        bram = agent(session, "Bram", ["nl"])
    assigned = [ticket_for(sessions, str(n), ROUND_ROBIN)[0] for n in range(4)]
    assert assigned == [anna, bram, anna, bram]


def test_a_category_goes_to_its_team_and_nobody_matching_leaves_the_general_queue(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        agent(session, "Anna", ["nl"])
        piet = agent(session, "Piet", ["nl"], "finance")
        agent(session, "Eva", ["en"], "finance", online=True)
    assignee, lines = ticket_for(sessions, "1", LEAST_LOADED, category="billing")
    assert assignee == piet and lines[-1] == "Routed to Piet (nl, team finance, least loaded)"
    greek, lines = ticket_for(sessions, "2", LEAST_LOADED, language="el")
    assert greek is None and lines[-1] == "Nobody online for el: in the general queue"


def test_without_declared_languages_nothing_is_routed_or_noted(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        agent(session, "Anna", [])
    assignee, lines = ticket_for(sessions, "1", LEAST_LOADED)
    assert assignee is None
    assert lines == ["Handed to a person (customer request)"]
