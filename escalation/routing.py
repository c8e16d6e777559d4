"""Routing: a new ticket goes to someone online who speaks its language, in the team for its
category; with nobody matching it stays in the general queue, and the ticket says why.

Agents declare their languages and team (``helpdesk agent skills``) and set themselves
online or away in the console. Among the matching agents online, ``least_loaded`` picks the
one with the fewest active tickets, ``round_robin`` the one routed to longest ago (the
policy file's ``routing`` section, escalation/sla.py). Routing assigns the ticket; the
customer hears "picked up" only when that agent takes it (replies or opens it).
Nothing happens until some agent has declared a language: a helpdesk that does not route
keeps its one shared queue, without a note on every ticket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from escalation.models import HANDOFF_STATUSES, Agent, Ticket
from escalation.sla import RoutingIn


def route(session: Session, *, ticket: Ticket, routing: RoutingIn) -> str | None:
    """Assign ``ticket`` to the agent routing picks; what happened, for the ticket's history
    (None when no agent has declared languages: routing is not in use)."""
    team = routing.teams.get(ticket.category or "")
    ticket.team = team  # its hours count for the service level even when nobody routes
    agents = list(session.scalars(select(Agent).where(Agent.disabled_at.is_(None))))
    if not any(agent.languages for agent in agents):
        return None
    wanted = f"{ticket.language}" + (f", team {team}" if team else "")
    candidates = [
        agent
        for agent in agents
        if agent.available
        and ticket.language in agent.languages
        and (team is None or agent.team == team)
    ]
    if not candidates:
        return f"Nobody online for {wanted}: in the general queue"
    chosen = min(candidates, key=_order(session, routing, candidates))
    ticket.assignee = chosen
    return f"Routed to {chosen.name} ({wanted}, {routing.strategy.replace('_', ' ')})"


def _order(
    session: Session, routing: RoutingIn, candidates: list[Agent]
) -> Callable[[Agent], tuple[Any, ...]]:
    ids = [agent.id for agent in candidates]
    if routing.strategy == "round_robin":
        last = dict(
            session.execute(
                select(Ticket.assignee_id, func.max(Ticket.escalated_at))
                .where(Ticket.assignee_id.in_(ids))
                .group_by(Ticket.assignee_id)
            ).all()
        )
        return lambda agent: (last.get(agent.id) is not None, last.get(agent.id), agent.id)
    load = dict(
        session.execute(
            select(Ticket.assignee_id, func.count())
            .where(Ticket.assignee_id.in_(ids), Ticket.status.in_(HANDOFF_STATUSES))
            .group_by(Ticket.assignee_id)
        ).all()
    )
    return lambda agent: (load.get(agent.id, 0), agent.id)
