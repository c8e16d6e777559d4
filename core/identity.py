"""Signed conversation ids: who may read and write a customer's conversation.

A conversation id is ``<key>.<signature>``, the signature an HMAC-SHA256 of the key with the
site's conversation secret. The server issues ids with random keys; a site that knows its
customers may sign its own user ids with the same secret (as Chatwoot's identity validation
does), so one customer keeps one conversation across devices. Without the secret a client
can neither choose an id nor guess another customer's.

Stdlib only and Python 3.10-compatible: the Rasa server's channels import it too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

#: The environment variable every process reads the secret from (core/settings.py and the
#: Rasa server's channels, bot/channels/signed.py).
SECRET_ENV = "HELPDESK_CONVERSATION_SECRET"
#: A key: letters, digits, "_" and "-", as a site's user ids and our random keys are.
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,100}")
#: Bytes of the HMAC kept: 128 bits, 22 characters.
SIGNATURE_BYTES = 16


def sign(key: str, secret: str) -> str:
    """The conversation id of ``key`` (a site's user id, or a random key)."""
    if not KEY_PATTERN.fullmatch(key):
        raise ValueError("a conversation key is 1-100 letters, digits, '_' or '-'")
    return f"{key}.{_signature(key, secret)}"


def new_conversation_id(secret: str) -> str:
    """A new conversation id with a random key."""
    return sign(secrets.token_urlsafe(16), secret)


def is_signed(conversation_id: object, secret: str) -> bool:
    """Whether ``conversation_id`` was signed with ``secret``."""
    if not isinstance(conversation_id, str) or not secret:
        return False
    key, _, signature = conversation_id.rpartition(".")
    if not KEY_PATTERN.fullmatch(key):
        return False
    return hmac.compare_digest(signature, _signature(key, secret))


def _signature(key: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), key.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:SIGNATURE_BYTES]).decode().rstrip("=")
