"""Prometheus metrics of the action server: the FAQ's decisions and how long a lookup takes.

Served at the action server's own ``/metrics`` (a route added through rasa_sdk's plugin hook,
``attach_sanic_app_extensions``), beside the API's: Prometheus scrapes both. Counted in this
process's memory, as prometheus-client does; the action server runs one Sanic worker.
"""

from __future__ import annotations

import pluggy
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, raw

from knowledge import Answer

hookimpl = pluggy.HookimplMarker("rasa_sdk")

FAQ_DECISIONS = Counter(
    "helpdesk_faq_decisions",
    "The FAQ's decision on a customer's question: answered, clarified (two choices) or declined",
    labelnames=["decision", "language"],
)
FAQ_LOOKUP_SECONDS = Histogram(
    "helpdesk_faq_lookup_seconds",
    "Time to search the FAQ for one question (embedding, index, decision)",
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0),
)

EMBED_AHEAD = Counter(
    "helpdesk_embed_ahead",
    "Messages Rasa sent to be embedded before its NLU ran, by whether embedding started then"
    " (false: already kept or under way, or a guess refused while another embedding ran)",
    labelnames=["started"],
)


def count_decision(answer: Answer) -> None:
    if answer.clarifying:
        decision = "clarified"
    elif answer.answered:
        decision = "answered"
    else:
        decision = "declined"
    FAQ_DECISIONS.labels(decision=decision, language=answer.language.lang).inc()


async def metrics(_: Request) -> HTTPResponse:
    return raw(generate_latest(), content_type=CONTENT_TYPE_LATEST)


class MetricsRoute:
    """The rasa_sdk plugin that adds ``GET /metrics`` to the action server's app."""

    @hookimpl
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        app.add_route(metrics, "/metrics", methods=["GET"], name="metrics")
