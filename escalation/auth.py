"""Agent accounts: Argon2 password hashes (pwdlib) and opaque bearer tokens stored as SHA-256.

Accounts made before Argon2 carry scrypt hashes: they still verify, and are rehashed with
Argon2 at the agent's next sign-in. Tokens are random, so a plain SHA-256 of them is enough
to make a leaked table useless.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from escalation.errors import AccountError
from escalation.models import Agent, AgentToken, utc_now

TOKEN_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 8


class LegacyScryptHasher:
    """Verifies the ``scrypt$N$r$p$salt$digest`` hashes of earlier versions (pwdlib's
    hasher protocol); it never makes new ones, and every hash it knows needs a rehash."""

    PREFIX = "scrypt$"

    @classmethod
    def identify(cls, hash: str | bytes) -> bool:
        return _text(hash).startswith(cls.PREFIX)

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        raise NotImplementedError("new passwords are hashed with Argon2")

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:
        try:
            _, n, r, p, salt, digest = _text(hash).split("$")
            candidate = hashlib.scrypt(
                _bytes(password), salt=_unb64(salt), n=int(n), r=int(r), p=int(p)
            )
        except ValueError:
            return False
        return hmac.compare_digest(candidate, _unb64(digest))

    def check_needs_rehash(self, hash: str | bytes) -> bool:
        return True


#: Argon2 (the FastAPI template's choice) for new hashes; scrypt only to read old ones.
PASSWORDS = PasswordHash((Argon2Hasher(), LegacyScryptHasher()))
#: What an unknown email is checked against, so both answers take the same time.
_DUMMY_HASH = PASSWORDS.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return PASSWORDS.hash(password)


def verify_password(password: str, stored: str) -> tuple[bool, str | None]:
    """Whether ``password`` matches, and the new hash to store when ``stored`` is outdated."""
    try:
        return PASSWORDS.verify_and_update(password, stored)
    except UnknownHashError:
        return False, None


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
    """The agent if the password is theirs; an outdated hash is upgraded on the way."""
    agent = agent_by_email(session, email=email)
    if agent is None:
        verify_password(password, _DUMMY_HASH)  # same work: no timing hint that it exists
        return None
    valid, upgraded = verify_password(password, agent.password_hash)
    if not valid:
        return None
    if upgraded is not None:
        agent.password_hash = upgraded
    return agent


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


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
