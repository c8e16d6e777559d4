"""Agents sign in for a bearer token, and sign out."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status

from escalation.api.deps import CurrentAgent, SessionDep
from escalation.api.ratelimit import SIGN_IN_RATE, limiter
from escalation.api.responses import CONFLICT, TOO_MANY, UNAUTHORIZED
from escalation.api.schemas import (
    AgentOut,
    AvailabilityIn,
    OwnPasswordChange,
    SignIn,
    TokenOut,
)
from escalation.auth import authenticate, change_own_password, issue_token, revoke_tokens

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/token", responses={**UNAUTHORIZED, **TOO_MANY})
@limiter.limit(SIGN_IN_RATE)
def sign_in(request: Request, response: Response, body: SignIn, session: SessionDep) -> TokenOut:
    """Exchange email and password for a bearer token (valid 12 hours).

    After 5 wrong passwords in a row an account pauses sign-in (429 with Retry-After),
    30 s at first and twice as long after each further failure, up to 15 minutes; one
    address may try at most 20 times a minute, whichever accounts.
    """
    try:
        agent = authenticate(session, email=body.email, password=body.password)
    finally:
        session.commit()  # a failure is counted even though the request fails
    if agent is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="Wrong email or password.")
    token = issue_token(session, agent=agent)
    session.commit()
    return TokenOut(access_token=token, agent=AgentOut.model_validate(agent))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=UNAUTHORIZED)
def sign_out(agent: CurrentAgent, session: SessionDep) -> None:
    """Revoke every token of the signed-in agent."""
    revoke_tokens(session, agent=agent)
    session.commit()


@router.put(
    "/password", status_code=status.HTTP_204_NO_CONTENT, responses={**UNAUTHORIZED, **CONFLICT}
)
def change_password(body: OwnPasswordChange, agent: CurrentAgent, session: SessionDep) -> None:
    """Change your own password (the current one is needed); every session ends, this too."""
    change_own_password(session, agent=agent, current=body.current_password, new=body.new_password)
    session.commit()


@router.get("/me", responses=UNAUTHORIZED)
def me(agent: CurrentAgent) -> AgentOut:
    return AgentOut.model_validate(agent)


@router.put("/me/availability", responses=UNAUTHORIZED)
def set_availability(body: AvailabilityIn, agent: CurrentAgent, session: SessionDep) -> AgentOut:
    """Online or away: away, no new ticket is routed to you (yours stay yours)."""
    agent.available = body.available
    session.commit()
    return AgentOut.model_validate(agent)
