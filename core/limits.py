"""Limits every process agrees on, importable from the Rasa environment (Python 3.10) too.

Kept apart from core/settings.py, which needs Python 3.11 and pydantic-settings: the Rasa
server's NLU components read these as well.
"""

#: The longest message, in characters, a customer may send the bot or an agent may send a
#: customer. A longer customer message gets a notice in the customer's language asking for
#: a shorter one (the full text stays in the transcript); the agent API refuses a longer reply.
MAX_MESSAGE_CHARS = 4000


def typed_within_limit(text: str | None) -> bool:
    """A message the customer typed (not a button's ``/payload``), within the limit: what
    the FAQ search would look up, so what is worth embedding ahead of it."""
    return bool(text) and not str(text).startswith("/") and len(str(text)) <= MAX_MESSAGE_CHARS
