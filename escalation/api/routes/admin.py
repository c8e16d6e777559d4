"""What only an admin may do: manage agents' accounts, and export or erase a customer's data.

The same operations as `helpdesk agent ...` and `helpdesk customer ...`, for teams that run
the helpdesk without a shell on its machine.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from sqlalchemy import select

from escalation.api.deps import CurrentAdmin, SessionDep, SettingsDep
from escalation.api.responses import CONFLICT, FORBIDDEN_ROLE, NOT_FOUND, UNAUTHORIZED
from escalation.api.schemas import MAX_ID, AgentAccount, Erased, NewAgent, NewPassword
from escalation.auth import create_agent, disable_agent, set_password
from escalation.errors import AccountError, NotFoundError
from escalation.models import Agent
from escalation.privacy import erase_customers, export_customer

router = APIRouter(prefix="/api", tags=["admin"], responses={**UNAUTHORIZED, **FORBIDDEN_ROLE})

AgentId = Annotated[int, Path(ge=1, le=MAX_ID)]
ConversationId = Annotated[str, Path(min_length=1, max_length=200)]


@router.get("/agents")
def list_agents(session: SessionDep, _: CurrentAdmin) -> list[AgentAccount]:
    agents = session.scalars(select(Agent).order_by(Agent.id))
    return [AgentAccount.model_validate(agent) for agent in agents]


@router.post("/agents", status_code=status.HTTP_201_CREATED, responses=CONFLICT)
def add_agent(body: NewAgent, session: SessionDep, _: CurrentAdmin) -> AgentAccount:
    """A new account (the password rules of `helpdesk agent add` apply: 409 with the reason)."""
    agent = create_agent(
        session, email=body.email, name=body.name, password=body.password, role=body.role
    )
    session.commit()
    return AgentAccount.model_validate(agent)


@router.post("/agents/{agent_id}/disable", responses={**NOT_FOUND, **CONFLICT})
def disable(agent_id: AgentId, session: SessionDep, admin: CurrentAdmin) -> AgentAccount:
    """No more sign-in; every session ends. An admin cannot lock themselves out this way."""
    agent = _agent(session, agent_id)
    if agent.id == admin.id:
        raise AccountError("an admin cannot disable their own account")
    disable_agent(session, agent=agent)
    session.commit()
    return AgentAccount.model_validate(agent)


@router.put(
    "/agents/{agent_id}/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**NOT_FOUND, **CONFLICT},
)
def reset_password(
    agent_id: AgentId, body: NewPassword, session: SessionDep, _: CurrentAdmin
) -> None:
    """Set an agent's password (they forgot theirs); their sessions end."""
    set_password(session, agent=_agent(session, agent_id), password=body.password)
    session.commit()


@router.get("/customers/{conversation_id}/export")
async def export(
    conversation_id: ConversationId, settings: SettingsDep, _: CurrentAdmin
) -> dict[str, Any]:
    """Everything stored about a conversation, as `helpdesk customer export` prints it."""
    return await asyncio.to_thread(export_customer, settings, conversation_id=conversation_id)


@router.delete("/customers/{conversation_id}")
async def erase(conversation_id: ConversationId, settings: SettingsDep, _: CurrentAdmin) -> Erased:
    """Erase a conversation from the ticket database and Rasa's tracker store, for good."""
    erased = await asyncio.to_thread(erase_customers, settings, [conversation_id])
    return Erased(
        conversations=erased.conversations,
        tickets=erased.tickets,
        tracker_events=erased.tracker_events,
    )


def _agent(session: SessionDep, agent_id: int) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFoundError(f"No agent #{agent_id}.")
    return agent
