"""The escalation package's errors; the API maps each to its HTTP status (api/errors.py)."""

from __future__ import annotations

from datetime import timedelta

from core.errors import HelpdeskError


class EscalationError(HelpdeskError):
    """Base class of every error raised by the escalation package."""


class NotFoundError(EscalationError):
    """No such ticket or agent (or not one the caller may see)."""


class TicketStateError(EscalationError):
    """The ticket cannot do that in its current status (e.g. reply to a closed ticket)."""


class AccountError(EscalationError):
    """An account cannot be created as asked (duplicate email, weak password)."""


class SignInLocked(EscalationError):
    """Too many wrong passwords in a row for this account: sign-in pauses for a while."""

    def __init__(self, retry_after: timedelta) -> None:
        self.retry_after_seconds = max(1, int(retry_after.total_seconds() + 0.999))
        super().__init__(
            f"Too many failed sign-ins; try again in {self.retry_after_seconds} seconds."
        )


class KeywordRulesError(EscalationError):
    """The keyword rules file is malformed; the message names the rule."""


class SlaConfigError(EscalationError):
    """The SLA policy file is malformed; the message names the file and the line."""


class NotAnEditor(EscalationError):
    """Only FAQ editors (and admins) write, publish and unpublish FAQ entries."""


class MailConfigError(EscalationError):
    """E-mail to customers is configured halfway; the message says what is missing."""


class RasaUnavailable(EscalationError):
    """Rasa's HTTP API did not answer, or refused; what was asked stays to be retried."""
