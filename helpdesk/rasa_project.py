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
from urllib.parse import SplitResult, urlsplit

import yaml
from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

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


#: TensorFlow's thread pools for a serving Rasa (Rasa's documented variables): a server
#: classifies one message at a time, whose few small operations lose more to handing work
#: between threads than they gain (NLU parse p50 8.5 -> 7.4 ms alone on this machine), and a
#: second thread takes the core the action server embeds the same message on. Training keeps
#: TensorFlow's defaults: its model must not depend on how it is served.
SERVING_THREADS = {"TF_INTER_OP_PARALLELISM_THREADS": "1", "TF_INTRA_OP_PARALLELISM_THREADS": "1"}


def rasa_environment(*, serving: bool = False) -> dict[str, str]:
    """Environment for Rasa processes: no telemetry (no outside traffic), quiet TensorFlow;
    ``serving``: one TensorFlow thread each (SERVING_THREADS) unless the environment says."""
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        TF_ENABLE_ONEDNN_OPTS="0",
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(PROJECT_ROOT),  # custom NLU components under bot/
    )
    if serving:
        env = SERVING_THREADS | env
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


#: Rasa's response generator: the domain's templates, in the language an action names.
NLG_CLASS = "bot.nlg.LanguageNamingGenerator"


def write_endpoints(settings: Settings, path: Path) -> Path:
    """The run's endpoints.yml: our action server, the SQL tracker store (SQLite, or the
    shared database of HELPDESK_TRACKER_STORE_URL) and, with HELPDESK_REDIS_URL, Rasa's Redis
    lock store. Passwords are written as ``${HELPDESK_…}`` references that Rasa fills in from
    its environment (``shared_services_environment``): the file holds no secret.

    The domain is not sent with each action call (Rasa's ``enable_selective_domain``): no
    action of ours reads it, and serialising it (≈ 70 KB) both ways cost ≈ 4 ms a call. The
    domain's responses are rendered by bot/nlg.py's generator (in the language an action
    names with them)."""
    endpoints = {
        "action_endpoint": {
            "url": f"http://{settings.host}:{settings.action_port}/webhook",
            "enable_selective_domain": True,
        },
        "tracker_store": tracker_store_endpoint(settings),
        "nlg": {"type": NLG_CLASS},
    }
    if settings.redis_url:
        endpoints["lock_store"] = lock_store_endpoint(settings.redis_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")
    return path


#: Environment variables that carry the shared services' passwords to the Rasa server.
TRACKER_PASSWORD_ENV = "HELPDESK_TRACKER_STORE_PASSWORD"
REDIS_PASSWORD_ENV = "HELPDESK_REDIS_PASSWORD"


def tracker_store_endpoint(settings: Settings) -> dict[str, object]:
    """Rasa's SQLTrackerStore settings for ``settings.tracker_store``.

    Raises:
        ConfigurationError: the URL is not one Rasa's SQL tracker store can use.
    """
    try:
        url = make_url(settings.tracker_store)
    except ArgumentError:
        raise ConfigurationError(
            f"HELPDESK_TRACKER_STORE_URL is not a database URL: {settings.tracker_store!r}"
        ) from None
    dialect = url.get_backend_name()
    if dialect == "sqlite":
        return {"type": "SQL", "dialect": "sqlite", "db": url.database}
    if dialect != "postgresql":
        raise ConfigurationError(
            f"HELPDESK_TRACKER_STORE_URL: {dialect} is not supported; use postgresql://… "
            "(or leave it unset for SQLite)"
        )
    endpoint: dict[str, object] = {
        "type": "SQL",
        "dialect": "postgresql",
        "url": url.host or "localhost",
        "port": url.port or 5432,
        "db": url.database or "rasa",
    }
    if url.username:
        endpoint["username"] = url.username
    if url.password:
        endpoint["password"] = f"${{{TRACKER_PASSWORD_ENV}}}"
    return endpoint


def lock_store_endpoint(redis_url: str) -> dict[str, object]:
    """Rasa's RedisLockStore settings for a redis:// (or rediss://, TLS) URL."""
    url = parse_redis_url(redis_url)
    endpoint: dict[str, object] = {
        "type": "redis",
        "url": url.hostname or "localhost",
        "port": url.port or 6379,
        "db": int(url.path.strip("/") or 0),
        "key_prefix": "helpdesk",
        "use_ssl": url.scheme == "rediss",
    }
    if url.password:
        endpoint["password"] = f"${{{REDIS_PASSWORD_ENV}}}"
    return endpoint


def parse_redis_url(redis_url: str) -> SplitResult:
    """The parts of HELPDESK_REDIS_URL.

    Raises:
        ConfigurationError: not a redis:// or rediss:// URL with a host.
    """
    url = urlsplit(redis_url)
    try:
        valid = url.scheme in ("redis", "rediss") and bool(url.hostname) and url.port != 0
        valid = valid and (url.path.strip("/") or "0").isdigit()
    except ValueError:  # a port that is not a number
        valid = False
    if not valid:
        raise ConfigurationError(
            f"HELPDESK_REDIS_URL must look like redis://[:password@]host[:port][/db], "
            f"not {redis_url!r}"
        )
    return url


def shared_services_environment(settings: Settings) -> dict[str, str]:
    """What the Rasa server needs to reach the shared database and Redis: the passwords the
    endpoints.yml refers to, and the Redis URL its socket.io server uses (bot/channels)."""
    env = {}
    password = make_url(settings.tracker_store).password
    if password:
        env[TRACKER_PASSWORD_ENV] = str(password)
    if settings.redis_url:
        env["HELPDESK_REDIS_URL"] = settings.redis_url
        if redis_password := parse_redis_url(settings.redis_url).password:
            env[REDIS_PASSWORD_ENV] = redis_password
    return env


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
