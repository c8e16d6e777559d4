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
from pathlib import Path

import yaml

from core.errors import HelpdeskError
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
CREDENTIALS_FILE = PROJECT_ROOT / "bot" / "credentials.yml"


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


def rasa_server_command(settings: Settings, model: Path, endpoints: Path) -> list[str]:
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
        "--credentials", str(CREDENTIALS_FILE),
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
