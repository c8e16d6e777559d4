"""Prometheus metrics at ``/metrics`` (prometheus-client): request latency per route, and what
the ticket database says at scrape time (open tickets by status, priority and team,
service-level breaches and tickets due soon, the delivery queue's depth and age, the FAQ's
decisions of the last 24 hours by language).

The database figures are read when Prometheus scrapes, by a collector, not counted in this
process: with several API processes each would only know its own share, and a restart would
reset them. A few grouped queries on indexed columns per scrape.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from escalation.models import Delivery, Ticket, TurnOutcome, utc_now
from escalation.tickets import sla_counts


class TicketCollector(Collector):
    """Ticket and delivery figures, read from the database at each scrape."""

    def __init__(self, sessions: Callable[[], sessionmaker[Session]]) -> None:
        self._sessions = sessions

    def collect(self) -> Iterator[Metric]:
        now = utc_now()
        with self._sessions()() as session:
            yield self._tickets(session)
            yield from self._service_levels(session, now)
            yield from self._deliveries(session, now)
            yield self._faq_decisions(session, now)

    def _tickets(self, session: Session) -> Metric:
        family = GaugeMetricFamily(
            "helpdesk_tickets",
            "Tickets by status, priority and team",
            labels=["status", "priority", "team"],
        )
        query = select(Ticket.status, Ticket.priority, Ticket.team, func.count()).group_by(
            Ticket.status, Ticket.priority, Ticket.team
        )
        for status, priority, team, count in session.execute(query):
            family.add_metric([status.value, priority.value, team or ""], count)
        return family

    def _service_levels(self, session: Session, now: datetime) -> Iterator[Metric]:
        counts = sla_counts(session, now=now)
        for state, name, help_text in (
            ("breached", "helpdesk_sla_breached_tickets", "Active tickets past their next target"),
            ("warning", "helpdesk_sla_due_soon_tickets", "Active tickets due soon (warn_at)"),
        ):
            family = GaugeMetricFamily(name, help_text, labels=["target"])
            for target, count in counts[state].items():
                family.add_metric([target], count)
            yield family

    def _faq_decisions(self, session: Session, now: datetime) -> Metric:
        """Of every action server (the outcomes they recorded), through the index on time."""
        family = GaugeMetricFamily(
            "helpdesk_faq_decisions_last_24h",
            "FAQ decisions in the last 24 hours: answered, clarified, declined",
            labels=["decision", "language"],
        )
        query = (
            select(TurnOutcome.kind, TurnOutcome.language, func.count())
            .where(TurnOutcome.occurred_at >= now - timedelta(hours=24))
            .group_by(TurnOutcome.kind, TurnOutcome.language)
        )
        for kind, language, count in session.execute(query):
            family.add_metric([kind.value, language], count)
        return family

    def _deliveries(self, session: Session, now: datetime) -> Iterator[Metric]:
        count, oldest = session.execute(
            select(func.count(), func.min(Delivery.created_at)).where(
                Delivery.delivered_at.is_(None)
            )
        ).one()
        yield GaugeMetricFamily(
            "helpdesk_delivery_queue_depth", "Agent messages not yet said to the customer", count
        )
        age = (now - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "helpdesk_delivery_queue_oldest_seconds", "Age of the oldest undelivered message", age
        )


def metrics_registry(
    sessions: Callable[[], sessionmaker[Session]],
) -> tuple[CollectorRegistry, Histogram]:
    """The registry ``/metrics`` exposes, and its request-latency histogram to feed."""
    registry = CollectorRegistry()
    registry.register(TicketCollector(sessions))
    latency = Histogram(
        "helpdesk_api_request_seconds",
        "API request latency by route",
        ["method", "route", "status"],
        registry=registry,
    )
    return registry, latency


def timed(
    latency: Histogram,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """HTTP middleware observing each request under its route's template (not its path:
    ticket ids would make a series per ticket)."""

    async def middleware(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        # the route that answered, as the router left it in the scope; none for a 404
        route = getattr(request.scope.get("route"), "path", None) or "unmatched"
        latency.labels(request.method, route, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response

    return middleware
