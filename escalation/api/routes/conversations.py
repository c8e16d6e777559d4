"""The customer's side of a channel that cannot push: what the bot said since a given time.

The REST channel answers each message in its HTTP response; an agent's reply, which comes
later, has no response to ride on. A REST client polls here. Rasa's tracker is the record of
what was said, so nothing is stored twice. The conversation id is the client's own secret,
as it already is for the REST channel itself.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from escalation.api.deps import RasaDep
from escalation.api.schemas import BotMessage

router = APIRouter(prefix="/api/conversations", tags=["customers"])


@router.get("/{conversation_id}/messages")
async def bot_messages(
    conversation_id: Annotated[str, Path(min_length=1, max_length=200)],
    rasa: RasaDep,
    after: Annotated[float, Query(ge=0, description="Unix time of the last message seen.")] = 0,
) -> list[BotMessage]:
    """The bot's and agents' messages in this conversation after ``after``, oldest first."""
    messages = await rasa.bot_messages(conversation_id=conversation_id, after=after)
    return [BotMessage.model_validate(message) for message in messages]
