"""Shared fixtures; the heavy ones (model, trained Rasa model, running stack) built once per run."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.settings import PACKAGED_MODEL, Settings, get_settings
from escalation.sla import WEEKDAYS
from helpdesk import services
from helpdesk.supervisor import ProcessGroup, free_port
from knowledge import KnowledgeBase
from knowledge.embedder import Embedder
from knowledge.loader import load_faq
from knowledge.models import FaqEntry
from tests.e2e.platforms import CREDENTIALS, StandIn, api_urls, start_stand_in
from tests.smtp import Inbox, start_smtp

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> int:
    """``helpdesk`` with ``args`` in this process, on settings read from the environment as
    it is now (the cached ones are dropped before and after)."""
    from helpdesk import cli

    get_settings.cache_clear()
    try:
        return cli.main(list(args))
    finally:
        get_settings.cache_clear()


def sla_file(path: Path, hours: str = "00:00-24:00", country: str | None = None) -> Path:
    """An SLA policy open ``hours`` every day (all day by default: the replies tests expect
    do not depend on when they run); the shipped targets."""
    holidays = f"\n  holidays: {{country: {country}}}" if country else ""
    days = "\n".join(f"    {day}: [{hours!r}]" for day in WEEKDAYS if hours)
    path.write_text(
        f"""calendar:
  timezone: Europe/Amsterdam
  hours:
{days or "    {}"}{holidays}
targets:
  - {{priority: urgent, first_response: 30m, resolution: 4h}}
  - {{priority: high, first_response: 1h, resolution: 8h}}
  - {{priority: normal, first_response: 4h, resolution: 16h}}
  - {{priority: low, first_response: 8h, resolution: 40h}}
""",
        encoding="utf-8",
    )
    return path


def english_sample_faq() -> list[FaqEntry]:
    """The shipped sample FAQ with its English variants only: an FAQ in one language."""
    return [
        FaqEntry(entry.id, {"en": entry.variants["en"]})
        for entry in load_faq(PROJECT_ROOT / "knowledge" / "faq")
    ]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The packaged model, loaded once for every test that embeds."""
    model = Embedder(PACKAGED_MODEL)
    model.warm_up()
    return model


@pytest.fixture(scope="session")
def sample_kb(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The shipped sample FAQ, indexed and calibrated once per run."""
    base = KnowledgeBase(
        load_faq(PROJECT_ROOT / "knowledge" / "faq"), embedder, tmp_path_factory.mktemp("index")
    )
    base.warm_up(progress=False)
    return base


@pytest.fixture(scope="session")
def platform_stand_in() -> Iterator[StandIn]:
    """The messaging platforms' servers, stood in for on loopback (tests/e2e/platforms.py)."""
    state, server = start_stand_in()
    yield state
    server.shutdown()


@pytest.fixture(scope="session")
def smtp_stand_in() -> Iterator[tuple[Inbox, int]]:
    """A mail server on loopback (aiosmtpd) that keeps what it is sent; its port."""
    port = free_port()
    inbox, controller = start_smtp(port)
    yield inbox, port
    controller.stop()


@pytest.fixture(scope="session")
def stack_settings(
    tmp_path_factory: pytest.TempPathFactory,
    platform_stand_in: StandIn,
    smtp_stand_in: tuple[Inbox, int],
) -> Settings:
    """Settings of a throwaway stack: its own data dir and free loopback ports; the four
    messaging apps on, their platforms stood in for; e-mail to customers on, through a
    local mail server."""
    data_dir = tmp_path_factory.mktemp("stack")
    return Settings(
        data_dir=data_dir,
        rasa_port=free_port(),
        action_port=free_port(),
        api_port=free_port(),
        rasa_api_token=SecretStr(secrets.token_urlsafe(16)),
        sla_path=sla_file(data_dir / "sla.yml"),
        smtp_host="127.0.0.1",
        smtp_port=smtp_stand_in[1],
        smtp_security="none",
        mail_from="Helpdesk <help@helpdesk-shop.nl>",
        **CREDENTIALS,  # type: ignore[arg-type]
        **api_urls(platform_stand_in.base_url),  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def rasa_model() -> Path:
    """The Rasa model, cached in var/models by the hash of its inputs: trained at most once."""
    from helpdesk.rasa_project import ensure_trained_model

    return ensure_trained_model(get_settings())


@pytest.fixture(scope="session")
def stack_processes(stack_settings: Settings, rasa_model: Path) -> Iterator[ProcessGroup]:
    """The real action server, Rasa server and API on loopback ports, for the whole session."""
    from helpdesk.stack import build_stack

    group = ProcessGroup()
    try:
        for process in build_stack(stack_settings, rasa_model):
            group.start(process, timeout=240)
        yield group
    finally:
        group.stop_all()


@pytest.fixture(scope="session")
def running_stack(stack_processes: ProcessGroup, stack_settings: Settings) -> Settings:
    """The settings of the running stack (its ports, its data dir)."""
    return stack_settings


def require_or_skip(installed: bool, message: str, requirement: str) -> None:
    """Skip when a Debian package is missing, unless scripts/test.sh installed it and set
    ``requirement`` to "required": then the tests must run, and fail."""
    if installed:
        return
    if os.environ.get(requirement) == "required":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_port() -> Iterator[int]:
    """A throwaway PostgreSQL server (Debian's package, helpdesk/services.py) on a free
    loopback port; scripts/test.sh installs the package where it can."""
    require_or_skip(
        services.postgres_installed(),
        "PostgreSQL server not installed (apt-get install postgresql)",
        "HELPDESK_TEST_POSTGRES",
    )
    # As root the server runs as `postgres`: its directory must be one that user can enter.
    directory = Path(tempfile.mkdtemp(prefix="helpdesk-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, services.POSTGRES_USER, services.POSTGRES_USER)
    port = free_port()
    server = services.postgres_server(
        directory / "db", port, log_path=directory / "log", durable=False
    )
    group = ProcessGroup()
    try:
        group.start(server, timeout=60)
        yield port
    finally:
        group.stop_all()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server(postgres_port: int) -> str:
    """The throwaway PostgreSQL server's base URL (append "/<database>")."""
    return f"postgresql+psycopg://postgres@127.0.0.1:{postgres_port}"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway Redis server (Debian's package) on a free loopback port."""
    require_or_skip(
        services.redis_installed(),
        "Redis server not installed (apt-get install redis-server)",
        "HELPDESK_TEST_REDIS",
    )
    directory, port = tmp_path_factory.mktemp("redis"), free_port()
    group = ProcessGroup()
    try:
        group.start(services.redis_server(directory, port, log_path=directory / "log"), timeout=30)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        group.stop_all()
