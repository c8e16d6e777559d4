"""Dependencies of the API routes: settings, database sessions, the signed-in agent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from core.settings import Settings, get_settings
from escalation.auth import agent_for_token
from escalation.db import session_factory
from escalation.delivery import DeliveryWorker
from escalation.mail import MailWorker
from escalation.models import Agent, Role
from escalation.rasa_client import RasaClient
from escalation.sla import Policy, cached_policy

SettingsDep = Annotated[Settings, Depends(get_settings)]

bearer = HTTPBearer(auto_error=False, description="A token from POST /api/auth/token.")


def get_session(settings: SettingsDep) -> Iterator[Session]:
    """A session per request; routes commit what they change, anything else rolls back."""
    with session_factory(settings.database)() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def get_current_agent(session: SessionDep, credentials: BearerDep) -> Agent:
    """The agent whose bearer token came with the request; 401 without a valid one."""
    agent = agent_for_token(session, token=credentials.credentials) if credentials else None
    session.commit()  # the moved idle deadline, before the route's own work
    if agent is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Sign in first: send 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return agent


CurrentAgent = Annotated[Agent, Depends(get_current_agent)]


def get_current_admin(agent: CurrentAgent) -> Agent:
    """The signed-in agent, if an admin; 403 otherwise."""
    if agent.role != Role.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only an admin may do this.")
    return agent


CurrentAdmin = Annotated[Agent, Depends(get_current_admin)]


def get_rasa(settings: SettingsDep) -> RasaClient:
    token = settings.rasa_api_token.get_secret_value() if settings.rasa_api_token else None
    return RasaClient(settings.rasa_base_url, token)


RasaDep = Annotated[RasaClient, Depends(get_rasa)]


def get_sla_policy(settings: SettingsDep) -> Policy:
    """The service levels (read and checked at start-up, escalation/api/main.py)."""
    return cached_policy(settings.sla_path)


SlaDep = Annotated[Policy, Depends(get_sla_policy)]


def get_delivery_worker(request: Request) -> DeliveryWorker:
    worker: DeliveryWorker = request.app.state.delivery_worker
    return worker


WorkerDep = Annotated[DeliveryWorker, Depends(get_delivery_worker)]


def get_mail_worker(request: Request) -> MailWorker | None:
    """The e-mail sender; None when e-mail is off (no HELPDESK_SMTP_HOST)."""
    worker: MailWorker | None = request.app.state.mail_worker
    return worker


MailDep = Annotated[MailWorker | None, Depends(get_mail_worker)]
