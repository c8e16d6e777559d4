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
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from escalation.errors import AccountError, SignInLocked
from escalation.models import Agent, AgentToken, Role, StreamTicket, utc_now

#: A token is refused this long after sign-in, however busy its agent (ASVS V3.3).
TOKEN_LIFETIME = timedelta(hours=12)
#: ... and this long after its agent's last request: an unattended console signs out.
IDLE_TIMEOUT = timedelta(minutes=30)
#: Moving the idle deadline is a database write: at most once a minute per token.
TOUCH_EVERY = timedelta(minutes=1)
#: A pass to open the console's event stream is used at once, by the page that asked.
STREAM_TICKET_LIFETIME = timedelta(seconds=30)
#: OWASP ASVS L1 (V2.1.1): at least 12 characters.
MIN_PASSWORD_LENGTH = 12
#: A password with fewer different characters than this is a pattern ("aaaaaaaaaaaa").
MIN_DISTINCT_CHARACTERS = 5
#: zxcvbn's 0-4 scale: 3 is "safely unguessable", about 10^10 guesses.
MIN_GUESS_SCORE = 3
#: zxcvbn's time grows with length: the first 100 characters decide.
MAX_PASSWORD_CHECKED = 100
#: Sign-in failures in a row an account takes before each further one locks it for a while:
#: 30 s, then twice as long each time, at most 15 minutes (ASVS V2.2.1).
FREE_FAILURES = 5
FIRST_LOCK = timedelta(seconds=30)
LONGEST_LOCK = timedelta(minutes=15)


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


def create_agent(
    session: Session, *, email: str, name: str, password: str, role: Role = Role.AGENT
) -> Agent:
    """A new agent; the name customers see is given, or the first name the address holds."""
    email = normalised_email(email)
    name = name.strip() or name_from_email(email)
    check_password(password, email=email, name=name)
    if agent_by_email(session, email=email) is not None:
        raise AccountError(f"an agent with email {email} exists already")
    agent = Agent(email=email, name=name, password_hash=hash_password(password), role=role)
    session.add(agent)
    session.flush()
    return agent


def normalised_email(email: str) -> str:
    """The address in lower case, if it is one (no DNS lookup: it may be an intranet's)."""
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise AccountError(f"not an email address: {email!r} ({error})") from None
    return checked.normalized.lower()


def name_from_email(email: str) -> str:
    """ "Carol" from carol.smith@example.com: customers are told a first name, never an address.

    Raises:
        AccountError: the address holds no name ("x123@..."); give one with --name.
    """
    first = email.split("@")[0].replace("_", ".").replace("-", ".").replace("+", ".").split(".")[0]
    if len(first) < 2 or not first.isalpha():
        raise AccountError(f"no name in {email}: give the name customers see (--name)")
    return first.capitalize()


def check_password(password: str, *, email: str, name: str) -> None:
    """Length, variety, none of the account's own words, and not guessable (ASVS V2.1).

    The last is zxcvbn's estimate, which knows the common and breached passwords of its
    lists ("qwertyuiop123", "1234567890ab"), keyboard walks, dates and repeats, offline.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise AccountError("the password is a pattern: use more different characters")
    lowered = password.casefold()
    own_words = {email.split("@")[0], *name.casefold().split(), "password", "helpdesk"}
    if any(len(word) >= 4 and word in lowered for word in own_words):
        raise AccountError("the password contains the account's own name or a common word")
    estimate = zxcvbn(password[:MAX_PASSWORD_CHECKED], user_inputs=[*own_words, email])
    if estimate["score"] < MIN_GUESS_SCORE:
        advice = estimate["feedback"]["warning"] or "add another uncommon word or two"
        raise AccountError(f"the password is too easy to guess: {advice}")


def set_password(session: Session, *, agent: Agent, password: str) -> None:
    """A new password; every session of the agent ends."""
    check_password(password, email=agent.email, name=agent.name)
    agent.password_hash = hash_password(password)
    revoke_tokens(session, agent=agent)


def change_own_password(session: Session, *, agent: Agent, current: str, new: str) -> None:
    """The agent's own change: only with the password they have now (ASVS V2.1.6)."""
    valid, _ = verify_password(current, agent.password_hash)
    if not valid:
        raise AccountError("the current password is wrong")
    set_password(session, agent=agent, password=new)


def disable_agent(session: Session, *, agent: Agent) -> None:
    """The agent can no longer sign in, and is signed out everywhere; tickets keep their name."""
    agent.disabled_at = utc_now()
    revoke_tokens(session, agent=agent)


def agent_by_email(session: Session, *, email: str) -> Agent | None:
    return session.scalar(select(Agent).where(Agent.email == email.strip().lower()))


def authenticate(session: Session, *, email: str, password: str) -> Agent | None:
    """The agent if the password is theirs; an outdated hash is upgraded on the way.

    Raises:
        SignInLocked: too many failures in a row; nothing is checked until it ends.
    """
    agent = agent_by_email(session, email=email)
    if agent is None or agent.disabled_at is not None:
        verify_password(password, _DUMMY_HASH)  # same work: no timing hint that it exists
        return None
    now = utc_now()
    if agent.locked_until is not None and agent.locked_until > now:
        raise SignInLocked(retry_after=agent.locked_until - now)
    valid, upgraded = verify_password(password, agent.password_hash)
    if not valid:
        agent.failed_signins += 1
        if agent.failed_signins >= FREE_FAILURES:
            doublings = min(agent.failed_signins - FREE_FAILURES, 10)
            agent.locked_until = now + min(LONGEST_LOCK, FIRST_LOCK * 2**doublings)
        return None
    agent.failed_signins, agent.locked_until = 0, None
    if upgraded is not None:
        agent.password_hash = upgraded
    return agent


def issue_token(session: Session, *, agent: Agent) -> str:
    """A new bearer token for ``agent``; the caller sees it once, we keep its hash."""
    token = secrets.token_urlsafe(32)
    session.add(
        AgentToken(agent=agent, token_hash=_token_hash(token), expires_at=utc_now() + IDLE_TIMEOUT)
    )
    return token


def agent_for_token(session: Session, *, token: str) -> Agent | None:
    """The agent a live token belongs to; the request counts as activity.

    Each use moves the idle deadline on, never past the token's lifetime; the caller
    commits. (The console's event stream checks its token with :func:`live_token`, which
    does not: an open console must still go idle.)
    """
    issued = live_token(session, token_hash=_token_hash(token))
    if issued is None:
        return None
    deadline = min(utc_now() + IDLE_TIMEOUT, issued.created_at + TOKEN_LIFETIME)
    if deadline - issued.expires_at >= TOUCH_EVERY:
        issued.expires_at = deadline
    return issued.agent


def live_token(
    session: Session, *, token_hash: str | None = None, token_id: int | None = None
) -> AgentToken | None:
    """The token by its hash or id, if it is neither expired nor its agent disabled."""
    if token_id is not None:
        issued = session.get(AgentToken, token_id)
    else:
        issued = session.scalar(select(AgentToken).where(AgentToken.token_hash == token_hash))
    if issued is None or issued.expires_at <= utc_now() or issued.agent.disabled_at is not None:
        return None
    return issued


def issue_stream_ticket(session: Session, *, token: str) -> str:
    """A one-use pass, valid :data:`STREAM_TICKET_LIFETIME`, that opens the event stream on
    behalf of ``token`` (a live bearer token; the caller has checked it)."""
    issued = live_token(session, token_hash=_token_hash(token))
    if issued is None:
        raise AccountError("the token is not valid")
    ticket = secrets.token_urlsafe(24)
    session.add(
        StreamTicket(
            ticket_hash=_token_hash(ticket),
            token_id=issued.id,
            expires_at=utc_now() + STREAM_TICKET_LIFETIME,
        )
    )
    return ticket


def redeem_stream_ticket(session: Session, *, ticket: str) -> int | None:
    """The id of the bearer token the pass stands for, once: the pass is gone after this
    call (and so are expired ones). None for an unknown, used or expired pass."""
    now = utc_now()
    query = select(StreamTicket).where(StreamTicket.ticket_hash == _token_hash(ticket))
    found = session.scalar(query)
    session.execute(delete(StreamTicket).where(StreamTicket.expires_at <= now))
    if found is None or found.expires_at <= now:
        return None
    session.delete(found)
    return found.token_id if live_token(session, token_id=found.token_id) else None


def revoke_tokens(session: Session, *, agent: Agent) -> None:
    """Sign the agent out everywhere."""
    session.execute(delete(AgentToken).where(AgentToken.agent_id == agent.id))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
