"""Benchmark: the handoff as a customer and an agent feel it. Not a test.

Starts its own stack, then for each of --tickets socket.io customers: asks for a person (time
to the ticket notice), has an agent reply through the API (time until the reply is on the
customer's socket), resolves (time until the rating question arrives). Prints p50/p95 and RSS.

    .venv/bin/python scripts/bench_handoff.py --tickets 40
"""

from __future__ import annotations

import argparse
import time

import httpx
from benchkit import TimedCustomer, print_rss, report, throwaway_stack

from escalation.auth import create_agent
from escalation.db import prepare, session_scope

PASSWORD = "benchmark agent"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=40)
    args = parser.parse_args()
    with throwaway_stack() as (settings, processes):
        with session_scope(prepare(settings)) as session:
            create_agent(session, email="bench@example.com", name="Bench", password=PASSWORD)
        api = httpx.Client(base_url=f"http://{settings.host}:{settings.api_port}", timeout=60)
        token = api.post(
            "/api/auth/token", json={"email": "bench@example.com", "password": PASSWORD}
        ).json()["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        escalations: list[float] = []
        replies: list[float] = []
        resolutions: list[float] = []
        started_all = time.perf_counter()
        for _ in range(args.tickets):
            url = f"http://{settings.host}:{settings.rasa_port}"
            customer = TimedCustomer(url)
            started = time.perf_counter()
            customer.say("I want to talk to a human")
            notice, took = customer.wait_for("#", started)
            escalations.append(took)
            ticket_id = int(notice.split("#")[1].split(";")[0])

            started = time.perf_counter()
            api.post(f"/api/tickets/{ticket_id}/replies", json={"text": "On it."})
            replies.append(customer.wait_for("On it.", started)[1])

            started = time.perf_counter()
            api.post(f"/api/tickets/{ticket_id}/status", json={"status": "resolved"})
            resolutions.append(customer.wait_for("How satisfied", started)[1])
            customer.close()
        seconds = time.perf_counter() - started_all
        report("escalation -> notice", escalations, seconds, unit="ticket")
        report("agent reply -> socket", replies, seconds, unit="ticket")
        report("resolve -> CSAT prompt", resolutions, seconds, unit="ticket")
        print_rss(processes)


if __name__ == "__main__":
    main()
