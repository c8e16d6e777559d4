"""The customer's side of a conversation outside the widget: a conversation id to talk on,
and what the bot said since a given time.

A conversation id is signed (core/identity.py): a client cannot pick one ("me") or read
someone else's. A REST client gets one here, or a site signs its own user id with the site
secret. The REST channel answers each message in its HTTP response; an agent's reply, which
comes later, has no response to ride on, so a REST client polls here. Rasa's tracker is the
record of what was said, so nothing is stored twice.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status

from core.identity import is_signed, new_conversation_id
from core.settings import conversation_secret
from escalation.api.deps import RasaDep, SettingsDep
from escalation.api.ratelimit import NEW_CONVERSATION_RATE, POLL_RATE, limiter
from escalation.api.responses import BOT_DOWN, FORBIDDEN, TOO_MANY
from escalation.api.schemas import BotMessage, NewConversation

router = APIRouter(prefix="/api/conversations", tags=["customers"])

NOT_SIGNED = "Unknown conversation: use an id from POST /api/conversations."


@router.post("", status_code=status.HTTP_201_CREATED, responses=TOO_MANY)
@limiter.limit(NEW_CONVERSATION_RATE)
async def new_conversation(
    request: Request, response: Response, settings: SettingsDep
) -> NewConversation:
    """A new conversation id: send it as `sender` to Rasa's REST channel, and poll with it."""
    return NewConversation(conversation_id=new_conversation_id(conversation_secret(settings)))


@router.get("/{conversation_id}/messages", responses={**FORBIDDEN, **TOO_MANY, **BOT_DOWN})
@limiter.limit(POLL_RATE)
async def bot_messages(
    request: Request,
    response: Response,
    conversation_id: Annotated[str, Path(min_length=1, max_length=200)],
    settings: SettingsDep,
    rasa: RasaDep,
    after: Annotated[float, Query(ge=0, description="Unix time of the last message seen.")] = 0,
) -> list[BotMessage]:
    """The bot's and agents' messages in this conversation after ``after``, oldest first."""
    if not is_signed(conversation_id, conversation_secret(settings)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, NOT_SIGNED)
    messages = await rasa.bot_messages(conversation_id=conversation_id, after=after)
    return [BotMessage.model_validate(message) for message in messages]
