"""``POST /embed-ahead`` on the action server: start embedding a customer's message as soon
as Rasa receives it, before its NLU, its tracker work and the first action have run.

The vector is a FAQ turn's largest cost (one core, ~18 ms); started here it is ready, or
nearly, when action_answer_faq searches (knowledge/vector_cache.py keeps it and hands it
over). Rasa's side is bot/turns.py's ``embed_ahead``. The message may turn out not to be a
question, so this is a guess: made only while nothing else is being embedded, it costs an
otherwise idle core at most. Nothing else depends on this route.
"""

from __future__ import annotations

import logging

import pluggy
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, empty, json

from actions.metrics import EMBED_AHEAD
from actions.runtime import get_knowledge_base
from core.limits import MAX_MESSAGE_CHARS

hookimpl = pluggy.HookimplMarker("rasa_sdk")
logger = logging.getLogger(__name__)


async def embed_ahead(request: Request) -> HTTPResponse:
    body = request.json
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text or len(text) > MAX_MESSAGE_CHARS:
        return json({"error": f"expected {{text}}: 1 to {MAX_MESSAGE_CHARS} characters"}, 400)
    started = False
    try:
        started = get_knowledge_base().prepare_search(text)
    except Exception:  # only a head start: the search embeds it itself
        logger.exception("could not start embedding ahead")
    EMBED_AHEAD.labels(started=str(started).lower()).inc()
    return empty(status=202)


class EmbedAheadRoute:
    """The rasa_sdk plugin that adds ``POST /embed-ahead`` to the action server's app."""

    @hookimpl
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        app.add_route(embed_ahead, "/embed-ahead", methods=["POST"], name="embed_ahead")
