"""Training the Rasa model when its inputs changed, and the files a Rasa run needs.

Rasa lives in its own Python 3.10 environment; we only ever call it as a subprocess.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import SecretStr

from core.errors import ConfigurationError, HelpdeskError
from core.settings import PROJECT_ROOT, Settings

logger = logging.getLogger(__name__)

TRAINING_INPUTS = (
    "config.yml",
    "domain.yml",
    "bot/data",
    "bot/nlu",
    "bot/policies",
    "requirements/rasa.lock",
)
#: The channels always on (widget, REST); a run's credentials.yml adds the messaging apps.
CREDENTIALS_FILE = PROJECT_ROOT / "bot" / "credentials.yml"


@dataclass(frozen=True)
class MessagingApp:
    """A messaging app's connector (bot/channels/) and its credentials from settings."""

    title: str
    connector: str
    #: credential name (the connector's) -> settings field; the first ones are required
    credentials: dict[str, str]
    required: int

    def fields(self) -> list[str]:
        return list(self.credentials.values())


MESSAGING_APPS = (
    MessagingApp(
        "Telegram",
        "bot.channels.telegram.HelpdeskTelegramInput",
        {
            "access_token": "telegram_token",
            "secret_token": "telegram_secret_token",
            "api_url": "telegram_api_url",
        },
        required=2,
    ),
    MessagingApp(
        "Twilio (WhatsApp, SMS)",
        "bot.channels.twilio.HelpdeskTwilioInput",
        {
            "auth_token": "twilio_auth_token",
            "account_sid": "twilio_account_sid",
            "twilio_number": "twilio_number",
            "api_url": "twilio_api_url",
            "webhook_url": "twilio_webhook_url",
        },
        required=3,
    ),
    MessagingApp(
        "Messenger",
        "bot.channels.facebook.HelpdeskMessengerInput",
        {
            "page-access-token": "messenger_page_token",
            "secret": "messenger_app_secret",
            "verify": "messenger_verify_token",
            "graph_url": "messenger_graph_url",
        },
        required=3,
    ),
    MessagingApp(
        "Slack",
        "bot.channels.slack.HelpdeskSlackInput",
        {
            "slack_token": "slack_token",
            "slack_signing_secret": "slack_signing_secret",
            "api_url": "slack_api_url",
        },
        required=2,
    ),
)


class RasaError(HelpdeskError):
    """Rasa could not be trained or started; the message says what to do."""


def rasa_environment() -> dict[str, str]:
    """Environment for Rasa processes: no telemetry (no outside traffic), quiet TensorFlow."""
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        TF_ENABLE_ONEDNN_OPTS="0",
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(PROJECT_ROOT),  # custom NLU components under bot/
    )
    return env


def training_hash() -> str:
    """Hash of everything the trained model depends on."""
    digest = hashlib.sha256()
    for name in TRAINING_INPUTS:
        path = PROJECT_ROOT / name
        files = (
            sorted(path.rglob("*.y*ml")) + sorted(path.rglob("*.py")) if path.is_dir() else [path]
        )
        for file in files:
            digest.update(str(file.relative_to(PROJECT_ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def ensure_trained_model(settings: Settings) -> Path:
    """The model for the current training data, training it first if needed (≈ 1 min)."""
    model = settings.models_dir / f"helpdesk-{training_hash()}.tar.gz"
    if model.exists():
        return model
    rasa = _rasa_executable(settings)
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    logger.info("training the Rasa model (inputs changed) -> %s", model.name)
    with tempfile.TemporaryDirectory(dir=settings.models_dir) as scratch:
        command = [
            str(rasa), "train",
            "--config", "config.yml",
            "--domain", "domain.yml",
            "--data", "bot/data",
            "--out", scratch,
            "--fixed-model-name", "model",
        ]  # fmt: skip
        result = subprocess.run(command, cwd=PROJECT_ROOT, env=rasa_environment(), check=False)
        if result.returncode != 0:
            raise RasaError(f"rasa train failed with exit code {result.returncode}")
        # Move into place only when complete: a half-written model is never picked up.
        os.replace(Path(scratch) / "model.tar.gz", model)
    for stale in settings.models_dir.glob("helpdesk-*.tar.gz"):
        if stale != model:
            stale.unlink(missing_ok=True)
    return model


def write_endpoints(settings: Settings, path: Path) -> Path:
    """The run's endpoints.yml: our action server and the SQL tracker store on SQLite."""
    endpoints = {
        "action_endpoint": {"url": f"http://{settings.host}:{settings.action_port}/webhook"},
        "tracker_store": {
            "type": "SQL",
            "dialect": "sqlite",
            "db": str(settings.tracker_db_path.resolve()),
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")
    return path


def enabled_messaging_apps(settings: Settings) -> list[MessagingApp]:
    """The messaging apps whose first credential is set.

    Raises:
        ConfigurationError: one is half configured; names the variables missing.
    """
    enabled = []
    for app in MESSAGING_APPS:
        fields = app.fields()
        if _setting(settings, fields[0]) is None:
            continue
        missing = [
            f"HELPDESK_{f.upper()}" for f in fields[: app.required] if not _setting(settings, f)
        ]
        if missing:
            raise ConfigurationError(f"{app.title} is half set up: also set {', '.join(missing)}")
        enabled.append(app)
    return enabled


def write_credentials(settings: Settings, path: Path) -> Path:
    """The run's credentials.yml: bot/credentials.yml plus each messaging app set up.

    Secrets are written as ``${HELPDESK_…}`` references, which Rasa fills in from its
    environment (``messaging_environment``): the file holds no secret.
    """
    channels = yaml.safe_load(CREDENTIALS_FILE.read_text(encoding="utf-8")) or {}
    for app in enabled_messaging_apps(settings):
        entry = {}
        for name, field in app.credentials.items():
            value = getattr(settings, field)
            if isinstance(value, SecretStr):
                entry[name] = f"${{HELPDESK_{field.upper()}}}"
            elif value is not None:
                entry[name] = str(value)
        channels[app.connector] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(channels, sort_keys=False), encoding="utf-8")
    return path


def messaging_environment(settings: Settings) -> dict[str, str]:
    """The secrets the run's credentials.yml refers to, for the Rasa server's environment
    (set in a .env file, they are not in ours)."""
    return {
        f"HELPDESK_{field.upper()}": value.get_secret_value()
        for app in enabled_messaging_apps(settings)
        for field in app.fields()
        if isinstance(value := getattr(settings, field), SecretStr)
    }


def _setting(settings: Settings, field: str) -> str | None:
    value = getattr(settings, field)
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    return str(text) if text else None


def rasa_server_command(
    settings: Settings, model: Path, endpoints: Path, credentials: Path = CREDENTIALS_FILE
) -> list[str]:
    """Command line of the Rasa server, REST and socket.io channels on (see bot/launcher.py).

    The HTTP API's token is not on it (``ps`` would show it): the launcher reads it from
    HELPDESK_RASA_API_TOKEN in its environment.
    """
    _rasa_executable(settings)
    return [
        str(settings.rasa_python), "-m", "bot.launcher", "run",
        "--enable-api",
        "--cors", *settings.allowed_origins,
        "--model", str(model),
        "--endpoints", str(endpoints),
        "--credentials", str(credentials),
        "--interface", settings.host,
        "--port", str(settings.rasa_port),
    ]  # fmt: skip


def _rasa_executable(settings: Settings) -> Path:
    rasa = settings.rasa_python.parent / "rasa"
    if not rasa.exists() and shutil.which("rasa") is None:
        raise RasaError(
            f"Rasa is not installed at {rasa}: run scripts/setup.sh "
            "(or set HELPDESK_RASA_PYTHON to a Rasa 3.6 environment's python)"
        )
    return rasa


def check_external_rasa(settings: Settings) -> None:
    """The external Rasa server answers, with the HTTP API and the token we were given.

    Raises:
        RasaError: naming what is wrong (not reachable, no token, token refused).
    """
    import httpx

    base = settings.rasa_base_url
    if settings.rasa_api_token is None:
        raise RasaError(
            "HELPDESK_RASA_URL is set: also set HELPDESK_RASA_API_TOKEN to the --auth-token "
            "that Rasa server was started with (agent replies go through its HTTP API)"
        )
    try:
        hello = httpx.get(f"{base}/", timeout=5)
        status = httpx.get(
            f"{base}/status",
            params={"token": settings.rasa_api_token.get_secret_value()},
            timeout=5,
        )
    except httpx.HTTPError as error:
        raise RasaError(f"the Rasa server at {base} does not answer ({error})") from None
    if hello.status_code != 200:
        raise RasaError(f"{base} answers {hello.status_code}: is it a Rasa server?")
    if status.status_code in (401, 403):
        raise RasaError(f"the Rasa server at {base} refuses HELPDESK_RASA_API_TOKEN")
    if status.status_code != 200:
        raise RasaError(
            f"the Rasa server at {base} has no model loaded or no HTTP API "
            f"(/status: {status.status_code}); start it with --enable-api"
        )
