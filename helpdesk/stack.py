"""The processes of a helpdesk run: action server, Rasa server, API. Used by `run` and the tests."""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

from pydantic import SecretStr

from core.identity import SECRET_ENV
from core.settings import PROJECT_ROOT, Settings, conversation_secret
from helpdesk.rasa_project import (
    messaging_environment,
    rasa_environment,
    rasa_server_command,
    write_credentials,
    write_endpoints,
)
from helpdesk.supervisor import ManagedProcess


def settings_environment(settings: Settings) -> dict[str, str]:
    """Pass the effective settings to children as HELPDESK_* variables."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, set):
            value = json.dumps(sorted(value))
        elif isinstance(value, list):
            value = json.dumps(value)
        if value is not None:
            env[f"HELPDESK_{name.upper()}"] = str(value)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def build_stack(settings: Settings, model: Path | None) -> list[ManagedProcess]:
    """Processes in start order: the action server before the Rasa server that calls it.

    With an external Rasa server (``rasa_url``) there is no Rasa process and no model: that
    server runs its own, and reaches the action server through ``endpoints.yml``.
    """
    if settings.rasa_api_token is None:  # only this run's processes will know it
        settings = settings.model_copy(
            # Hex: a token starting with "-" was once read by Rasa as an option.
            update={"rasa_api_token": SecretStr(secrets.token_hex(32))}
        )
    # Every process signs and checks conversation ids with the same secret.
    settings = settings.model_copy(
        update={"conversation_secret": SecretStr(conversation_secret(settings))}
    )
    logs = settings.data_dir / "logs"
    env = settings_environment(settings)
    endpoints = write_endpoints(settings, settings.data_dir / "endpoints.yml")
    base = f"http://{settings.host}"
    action_server = ManagedProcess(
        name="action server",
        command=[sys.executable, "-m", "actions.server", "--port", str(settings.action_port)],
        health_url=f"{base}:{settings.action_port}/health",
        log_path=logs / "actions.log",
        env=env,
        cwd=PROJECT_ROOT,
    )
    api = ManagedProcess(
        name="API",
        command=[
            sys.executable,
            "-m",
            "uvicorn",
            "escalation.api.main:app",
            "--host",
            settings.host,
            "--port",
            str(settings.api_port),
        ],
        health_url=f"{base}:{settings.api_port}/health",
        log_path=logs / "api.log",
        env=env,
        cwd=PROJECT_ROOT,
    )
    if settings.rasa_is_external or model is None:
        return [action_server, api]
    return [action_server, rasa_server(settings, model, endpoints), api]


def rasa_server(settings: Settings, model: Path, endpoints: Path) -> ManagedProcess:
    """Our Rasa server process (the token reaches it by environment, see bot/launcher.py)."""
    assert settings.rasa_api_token is not None
    return ManagedProcess(
        name="Rasa server",
        command=rasa_server_command(
            settings,
            model,
            endpoints,
            write_credentials(settings, endpoints.parent / "credentials.yml"),
        ),
        health_url=f"{settings.rasa_base_url}/",
        log_path=settings.data_dir / "logs" / "rasa.log",
        env=rasa_environment()
        | messaging_environment(settings)
        | {
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "HELPDESK_RASA_API_TOKEN": settings.rasa_api_token.get_secret_value(),
            SECRET_ENV: conversation_secret(settings),
        },
        cwd=PROJECT_ROOT,
    )
