"""The root of every error the helpdesk raises on purpose.

Each area subclasses it (``KnowledgeError``, ``EscalationError``, ``StartupError``...), so a
caller at the top (the CLI, the API's exception handlers) catches one class and shows the
message, never a traceback.
"""

from __future__ import annotations


class HelpdeskError(Exception):
    """An error with a message meant for the person running or using the helpdesk."""


class ConfigurationError(HelpdeskError):
    """The settings (``HELPDESK_*`` variables or ``.env``) are invalid."""
