"""A Rasa server started on its own (as the official image would be), and the helpdesk run
with HELPDESK_RASA_URL pointing at it: only the action server and the API are ours."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from core.settings import Settings
from helpdesk.rasa_project import RasaError, check_external_rasa, write_endpoints
from helpdesk.stack import build_stack, rasa_server
from helpdesk.supervisor import ProcessGroup, free_port
from tests.e2e.clients import new_sender

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def external(tmp_path_factory: pytest.TempPathFactory, rasa_model: Path) -> Iterator[Settings]:
    """A Rasa server of its own, then our stack told to use it."""
    data_dir = tmp_path_factory.mktemp("external")
    rasa_port = free_port()
    settings = Settings(
        data_dir=data_dir,
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        rasa_port=free_port(),  # ours would be here: nothing may start on it
        action_port=free_port(),
        api_port=free_port(),
        rasa_api_token=SecretStr(secrets.token_hex(16)),
    )
    outside = ProcessGroup()
    ours = ProcessGroup()
    try:
        # As an operator would: endpoints.yml from `helpdesk rasa-endpoints`, then Rasa.
        endpoints = write_endpoints(settings, data_dir / "endpoints.yml")
        standalone = settings.model_copy(update={"rasa_url": None, "rasa_port": rasa_port})
        outside.start(rasa_server(standalone, rasa_model, endpoints), timeout=240)
        check_external_rasa(settings)
        processes = build_stack(settings, model=None)
        assert [p.name for p in processes] == ["action server", "API"]
        for process in processes:
            ours.start(process, timeout=240)
        yield settings
    finally:
        ours.stop_all()
        outside.stop_all()


def test_customers_are_answered_through_the_external_rasa(external: Settings) -> None:
    replies = httpx.post(
        f"{external.rasa_base_url}/webhooks/rest/webhook",
        json={"sender": new_sender(external), "message": "how much does shipping cost"},
        timeout=60,
    ).json()
    assert "Shipping" in replies[0]["text"] or "shipping" in replies[0]["text"]
    api = f"http://{external.host}:{external.api_port}"
    assert httpx.get(f"{api}/health/stack", timeout=30).json() == {"rasa": "ok", "actions": "ok"}
    page = httpx.get(f"{api}/", timeout=30).text
    assert f'serverUrl: "{external.rasa_base_url}"' in page  # the widget talks to it too


def test_a_wrong_token_or_address_is_named_before_anything_starts(external: Settings) -> None:
    wrong_token = external.model_copy(update={"rasa_api_token": SecretStr("not-the-token")})
    with pytest.raises(RasaError, match="refuses HELPDESK_RASA_API_TOKEN"):
        check_external_rasa(wrong_token)
    nowhere = external.model_copy(update={"rasa_url": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(RasaError, match="does not answer"):
        check_external_rasa(nowhere)
    no_token = external.model_copy(update={"rasa_api_token": None})
    with pytest.raises(RasaError, match="HELPDESK_RASA_API_TOKEN"):
        check_external_rasa(no_token)
