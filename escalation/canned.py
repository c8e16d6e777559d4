"""Canned replies: answers agents send often, kept in a YAML file (``HELPDESK_CANNED_REPLIES_PATH``,
default escalation/canned_replies.yml), each in several languages, offered in the console in
the ticket's language with ``{ticket}`` (its number) and ``{agent}`` (the agent's first name)
filled in. The agent sees and may edit the text before sending. Checked at start-up, errors
naming the file and the line."""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from escalation.config_file import load_model
from escalation.errors import EscalationError

PLACEHOLDERS = frozenset({"ticket", "agent"})


class CannedRepliesError(EscalationError):
    """The canned replies file is malformed; the message names the file and the line."""


class CannedReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=60)
    texts: dict[str, str] = Field(min_length=1, description="language code -> text")

    @field_validator("texts")
    @classmethod
    def known_placeholders(cls, texts: dict[str, str]) -> dict[str, str]:
        for text in texts.values():
            for _, name, _, _ in string.Formatter().parse(text):
                if name is not None and name not in PLACEHOLDERS:
                    raise ValueError(f"unknown placeholder {{{name}}}: use {{ticket}}, {{agent}}")
        return texts

    def render(self, *, language: str, fallback: str, ticket: int, agent: str) -> str:
        """The text in ``language`` (else ``fallback``, else the first), filled in."""
        text = (
            self.texts.get(language) or self.texts.get(fallback) or next(iter(self.texts.values()))
        )
        return text.format(ticket=ticket, agent=agent)


class CannedReplies(BaseModel):
    model_config = ConfigDict(extra="forbid")

    replies: list[CannedReply] = []


@lru_cache(maxsize=4)
def load_canned_replies(path: Path) -> tuple[CannedReply, ...]:
    """The replies in ``path`` (none when there is no such file)."""
    if not path.exists():
        return ()
    return tuple(load_model(path, CannedReplies, CannedRepliesError, "canned replies").replies)
