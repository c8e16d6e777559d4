"""Agent accounts: scrypt password hashes and opaque bearer tokens stored as SHA-256.

Standard library only: scrypt is memory-hard and needs no extra dependency; tokens are
random, so a plain SHA-256 of them is enough to make a leaked table useless.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from escalation.models import Agent, AgentToken, utc_now

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
TOKEN_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 8


class AccountError(ValueError):
    """An account cannot be created as asked (duplicate email, weak password)."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return "$".join(
        ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)]
    )


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(candidate, _unb64(digest))


def create_agent(session: Session, *, email: str, name: str, password: str) -> Agent:
    email = email.strip().lower()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if agent_by_email(session, email=email) is not None:
        raise AccountError(f"an agent with email {email} exists already")
    agent = Agent(email=email, name=name.strip() or email, password_hash=hash_password(password))
    session.add(agent)
    session.flush()
    return agent


def agent_by_email(session: Session, *, email: str) -> Agent | None:
    return session.scalar(select(Agent).where(Agent.email == email.strip().lower()))


def authenticate(session: Session, *, email: str, password: str) -> Agent | None:
    agent = agent_by_email(session, email=email)
    if agent is None:
        hash_password(password)  # same work either way: no timing hint that the email exists
        return None
    return agent if verify_password(password, agent.password_hash) else None


def issue_token(session: Session, *, agent: Agent) -> str:
    """A new bearer token for ``agent``; the caller sees it once, we keep its hash."""
    token = secrets.token_urlsafe(32)
    session.add(
        AgentToken(
            agent=agent, token_hash=_token_hash(token), expires_at=utc_now() + TOKEN_LIFETIME
        )
    )
    return token


def agent_for_token(session: Session, *, token: str) -> Agent | None:
    query = select(AgentToken).where(AgentToken.token_hash == _token_hash(token))
    issued = session.scalar(query)
    if issued is None or _aware(issued.expires_at) <= utc_now():
        return None
    return issued.agent


def revoke_tokens(session: Session, *, agent: Agent) -> None:
    """Sign the agent out everywhere."""
    session.execute(delete(AgentToken).where(AgentToken.agent_id == agent.id))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns; we store UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
