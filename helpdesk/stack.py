"""The processes of a helpdesk run: action server, Rasa server, API. Used by `run` and the tests."""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

from pydantic import SecretStr

from core.errors import ConfigurationError
from core.identity import SECRET_ENV
from core.settings import PROJECT_ROOT, Settings, conversation_secret
from helpdesk.balancer import (
    TURN_TIMEOUT_SECONDS,
    Service,
    haproxy_config,
    haproxy_process,
    replica_ports,
)
from helpdesk.rasa_project import (
    messaging_environment,
    rasa_environment,
    rasa_server_command,
    shared_services_environment,
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


def build_stack(settings: Settings, model: Path | None, replicas: int = 1) -> list[ManagedProcess]:
    """Processes in start order: the action server before the Rasa server that calls it.

    With an external Rasa server (``rasa_url``) there is no Rasa process and no model: that
    server runs its own, and reaches the action server through ``endpoints.yml``.

    With ``replicas`` > 1, that many of each process listen on the ports above the
    configured ones, behind HAProxy on the configured ones (helpdesk/balancer.py); they share
    the databases and Redis of the settings, which must not be one process's memory.
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
    if replicas > 1:
        check_shareable(settings)
    endpoints = write_endpoints(settings, settings.data_dir / "endpoints.yml")
    with_rasa = not settings.rasa_is_external and model is not None
    actions = [
        action_server(settings, port, suffix)
        for port, suffix in _replicas(settings.action_port, replicas)
    ]
    rasas = [
        rasa_server(settings, model, endpoints, port, suffix)
        for port, suffix in _replicas(settings.rasa_port, replicas)
        if with_rasa and model is not None
    ]
    apis = [
        api_server(settings, port, suffix)
        for port, suffix in _replicas(settings.api_port, replicas)
    ]
    if replicas == 1:
        return [*actions, *rasas, *apis]
    return [balancer(settings, replicas, with_rasa=with_rasa), *actions, *rasas, *apis]


def check_shareable(settings: Settings) -> None:
    """Replicas share what one process keeps: refuse a setting they cannot share.

    Raises:
        ConfigurationError: naming the setting to set.
    """
    if not settings.redis_url:
        raise ConfigurationError(
            "replicas need Redis (per-conversation order across Rasa servers, the widget's "
            "socket.io rooms): set HELPDESK_REDIS_URL, or add --local-services"
        )


def _replicas(port: int, replicas: int) -> list[tuple[int, str]]:
    """(port, name suffix) of each replica: the configured port when there is one."""
    if replicas == 1:
        return [(port, "")]
    return [
        (replica, f" {index}") for index, replica in enumerate(replica_ports(port, replicas), 1)
    ]


def balancer(settings: Settings, replicas: int, *, with_rasa: bool) -> ManagedProcess:
    services = [
        Service(
            "actions",
            settings.action_port,
            "/health",
            replica_ports(settings.action_port, replicas),
        ),
        Service("api", settings.api_port, "/health", replica_ports(settings.api_port, replicas)),
    ]
    if with_rasa:
        services.append(
            Service("rasa", settings.rasa_port, "/", replica_ports(settings.rasa_port, replicas))
        )
    return haproxy_process(
        settings.data_dir / "haproxy.cfg",
        haproxy_config(settings.host, services),
        host=settings.host,
        port=settings.api_port,
    )


def action_server(settings: Settings, port: int, suffix: str = "") -> ManagedProcess:
    return ManagedProcess(
        name=f"action server{suffix}",
        command=[sys.executable, "-m", "actions.server", "--port", str(port)],
        health_url=f"http://{settings.host}:{port}/health",
        log_path=_log(settings, "actions", suffix),
        env=settings_environment(settings),
        cwd=PROJECT_ROOT,
    )


def api_server(settings: Settings, port: int, suffix: str = "") -> ManagedProcess:
    return ManagedProcess(
        name=f"API{suffix}",
        command=[
            sys.executable,
            "-m",
            "uvicorn",
            "escalation.api.main:app",
            "--host",
            settings.host,
            "--port",
            str(port),
        ],
        health_url=f"http://{settings.host}:{port}/health",
        log_path=_log(settings, "api", suffix),
        env=settings_environment(settings),
        cwd=PROJECT_ROOT,
    )


def rasa_server(
    settings: Settings, model: Path, endpoints: Path, port: int | None = None, suffix: str = ""
) -> ManagedProcess:
    """Our Rasa server process (the token reaches it by environment, see bot/launcher.py)."""
    assert settings.rasa_api_token is not None
    port = port or settings.rasa_port
    return ManagedProcess(
        name=f"Rasa server{suffix}",
        command=rasa_server_command(
            settings.model_copy(update={"rasa_port": port}),
            model,
            endpoints,
            write_credentials(settings, endpoints.parent / "credentials.yml"),
        ),
        health_url=f"http://{settings.host}:{port}/",
        log_path=_log(settings, "rasa", suffix),
        env=rasa_environment(serving=True)
        | messaging_environment(settings)
        | shared_services_environment(settings)
        | {
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "TICKET_LOCK_LIFETIME": str(TURN_TIMEOUT_SECONDS),
            "HELPDESK_RASA_API_TOKEN": settings.rasa_api_token.get_secret_value(),
            SECRET_ENV: conversation_secret(settings),
        },
        cwd=PROJECT_ROOT,
    )


def _log(settings: Settings, name: str, suffix: str) -> Path:
    return settings.data_dir / "logs" / f"{name}{suffix.replace(' ', '-')}.log"
