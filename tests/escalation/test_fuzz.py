"""The API fuzzed from its own OpenAPI schema (schemathesis), as a client would see it: a real
uvicorn process on loopback, signed in as an agent. Bounded: a few dozen examples per
operation. Every answer must be a documented status with a body matching the schema, and
never a server error."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from core.settings import PROJECT_ROOT
from escalation.auth import create_agent
from escalation.db import session_factory, session_scope
from helpdesk.supervisor import ManagedProcess, free_port
from tests.escalation.test_privacy import ticket_of

PASSWORD = "seven stones in the dark"
EXAMPLES_PER_OPERATION = 25


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real API process with a database of its own (Rasa is not running: its routes
    answer 503, which the schema documents)."""
    data_dir = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    env = {
        **os.environ,
        "HELPDESK_DATA_DIR": str(data_dir),
        "HELPDESK_API_PORT": str(port),
        "HELPDESK_RASA_PORT": str(free_port()),
        "HELPDESK_RASA_API_TOKEN": secrets.token_hex(8),
    }
    process = ManagedProcess(
        name="API",
        command=[sys.executable, "-m", "uvicorn", "escalation.api.main:app", "--port", str(port)],
        health_url=f"http://127.0.0.1:{port}/health",
        log_path=Path(data_dir) / "api.log",
        env=env,
        cwd=PROJECT_ROOT,
    )
    process.start()
    try:
        process.wait_healthy(60)  # the API has migrated its database
        with session_scope(session_factory(f"sqlite:///{data_dir / 'helpdesk.db'}")) as session:
            create_agent(session, email="tester@example.com", name="Tess", password=PASSWORD)
            for number in range(3):  # tickets #1-#3: small ids, which the fuzzer tries first
                ticket_of(session, f"customer-{number}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


@pytest.fixture(scope="module")
def token(api: str) -> str:
    body = {"email": "tester@example.com", "password": PASSWORD}
    response = httpx.post(f"{api}/api/auth/token", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_the_api_answers_every_request_as_its_schema_says(api: str, token: str) -> None:
    """Each operation's examples in turn (schemathesis's pytest plugin does not run on this
    pytest: the operations are driven through their Hypothesis strategies instead)."""
    schema = schemathesis.openapi.from_url(f"{api}/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema raises here
        if operation.path == "/api/auth/logout":
            continue  # it would end the session the others run in (tested in test_agent_api)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_documented(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(base_url=api, headers=headers)

        try:
            answers_as_documented()
        except (AssertionError, BaseExceptionGroup) as failure:  # every operation's, at once
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)
