"""The `helpdesk` command: run the stack, train, manage agents and the knowledge base."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from core.errors import ConfigurationError, HelpdeskError
from core.logs import configure_logging
from core.settings import Settings, get_settings
from helpdesk.supervisor import PRIVATE_UMASK

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from escalation.models import Agent
    from helpdesk.supervisor import ProcessGroup
    from knowledge import KnowledgeBase
    from knowledge.evaluation import Outcome

logger = logging.getLogger("helpdesk")

app = typer.Typer(
    name="helpdesk",
    help=__doc__,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
agent_app = typer.Typer(help="Agent accounts.", no_args_is_help=True)
customer_app = typer.Typer(
    help="A customer's data (GDPR): export, erase, retention.", no_args_is_help=True
)
kb_app = typer.Typer(help="The FAQ knowledge base: index, search, evaluate.", no_args_is_help=True)
app.add_typer(agent_app, name="agent")
app.add_typer(customer_app, name="customer")
app.add_typer(kb_app, name="kb")


def main(argv: list[str] | None = None) -> int:
    """Run one command; our errors end in one line on stderr and exit 1, never a traceback."""
    os.umask(PRIVATE_UMASK)  # the data dir, index and models too: owner only, as the children's
    try:
        settings = get_settings()
        configure_logging(settings.log_level, settings.log_format)
        app(args=argv, prog_name="helpdesk")  # usage mistakes: Typer's message, exit 2
    except SystemExit as done:  # how Typer ends every command, so callers get the code
        return done.code if isinstance(done.code, int) else int(done.code is not None)
    except (HelpdeskError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


@app.command()
def run(
    replicas: Annotated[
        int,
        typer.Option(
            min=1,
            max=9,
            help="Run this many of each process (action server, Rasa server, API) behind "
            "HAProxy on the configured ports; they share HELPDESK_DATABASE_URL, "
            "HELPDESK_TRACKER_STORE_URL and HELPDESK_REDIS_URL.",
        ),
    ] = 1,
    local_services: Annotated[
        bool,
        typer.Option(
            "--local-services",
            help="Start PostgreSQL and Redis (Debian's packages) for this run, data under "
            "the data dir, and use them for tickets, Rasa's tracker store and Redis.",
        ),
    ] = False,
) -> None:
    """Train if needed, start every service, and wait for Ctrl-C."""
    from helpdesk.balancer import replica_ports
    from helpdesk.rasa_project import check_external_rasa, ensure_trained_model
    from helpdesk.stack import build_stack
    from helpdesk.supervisor import ProcessGroup, check_ports_free

    settings = get_settings()
    ports = {"action": settings.action_port, "rasa": settings.rasa_port, "api": settings.api_port}
    if settings.rasa_is_external:
        del ports["rasa"]
        check_external_rasa(settings)
    if replicas > 1:
        ports |= {
            f"{name} replica": port
            for name, public in list(ports.items())
            for port in replica_ports(public, replicas)
        }
    check_ports_free(settings.host, ports)
    group = ProcessGroup()
    stopping = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        if local_services:
            settings = _start_local_services(settings, group)
        _build_index(settings)
        model = None if settings.rasa_is_external else ensure_trained_model(settings)
        for process in build_stack(settings, model, replicas):
            if stopping:
                break
            group.start(process, timeout=180)
        if not stopping:
            _print_addresses(settings)
        while not stopping:
            group.keep_alive()  # a crashed service comes back; the others keep serving
            time.sleep(0.5)
    finally:
        print("\nstopping…", file=sys.stderr)
        group.stop_all()


def _build_index(settings: Settings) -> None:
    """Build the FAQ index once, before the action servers load it: in a child process, so
    that the supervisor, which runs as long as the helpdesk, never holds the model that only
    the action server needs (111 MB RSS with it, 62 MB without, on the default model)."""
    from helpdesk.stack import settings_environment

    command = [sys.executable, "-m", "helpdesk.cli", "kb", "build"]
    built = subprocess.run(command, env=settings_environment(settings), check=False)
    if built.returncode != 0:
        raise ConfigurationError("the FAQ index could not be built (see the message above)")


def _start_local_services(settings: Settings, group: ProcessGroup) -> Settings:
    """PostgreSQL and Redis for this run (helpdesk/services.py), on free loopback ports;
    the settings pointed at them."""
    from helpdesk import services
    from helpdesk.supervisor import free_port

    logs = settings.data_dir / "logs"
    postgres_port, redis_port = free_port(settings.host), free_port(settings.host)
    directory = services.postgres_directory(settings.data_dir)
    group.start(
        services.postgres_server(directory, postgres_port, log_path=logs / "postgres.log"),
        timeout=60,
    )
    redis_dir = settings.data_dir / "services" / "redis"
    group.start(
        services.redis_server(redis_dir, redis_port, log_path=logs / "redis.log"), timeout=30
    )
    return settings.model_copy(
        update={
            "database_url": services.create_database(postgres_port, "helpdesk"),
            "tracker_store_url": services.create_database(postgres_port, "rasa"),
            "redis_url": f"redis://127.0.0.1:{redis_port}/0",
        }
    )


@app.command("rasa-endpoints")
def rasa_endpoints() -> None:
    """Write the endpoints.yml an external Rasa server needs (action server, tracker store)."""
    from helpdesk.rasa_project import write_endpoints

    settings = get_settings()
    path = write_endpoints(settings, settings.data_dir / "endpoints.yml")
    print(path)


def _print_addresses(settings: Settings) -> None:
    base = f"http://{settings.host}"
    print(
        f"""
The helpdesk is running. Press Ctrl-C to stop.
  Demo site+widget: {base}:{settings.api_port}/
  Agent console:    {base}:{settings.api_port}/console
  REST channel:     POST {settings.rasa_base_url}/webhooks/rest/webhook
                    body {{"sender": "<id>", "message": "hi"}}, the id from
                    POST {base}:{settings.api_port}/api/conversations
  socket.io:        {settings.rasa_base_url}/socket.io  (events user_uttered / bot_uttered)
  Agent API docs:   {base}:{settings.api_port}/docs
                    (first agent: .venv/bin/helpdesk agent add you@example.com --name You)
  Logs:             {settings.data_dir / "logs"}
""",
        flush=True,
    )


@app.command()
def train() -> None:
    """Train the Rasa model if its inputs changed; print the model's path."""
    from helpdesk.rasa_project import ensure_trained_model

    print(ensure_trained_model(get_settings()))


@app.command("action-server")
def action_server(
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (default: HELPDESK_ACTION_PORT).")
    ] = None,
) -> None:
    """Run the Rasa action server alone (`run` starts it with the rest)."""
    from actions.server import main as serve

    serve(["--port", str(port or get_settings().action_port)])


PasswordStdin = Annotated[
    bool,
    typer.Option(help="Read the password from standard input (scripts) instead of prompting."),
]


@agent_app.command("add")
def agent_add(
    email: Annotated[str, typer.Argument(help="The agent's sign-in email.")],
    name: Annotated[
        str, typer.Option(help="Shown to customers; default: the first name in the address.")
    ] = "",
    password_stdin: PasswordStdin = False,
    admin: Annotated[
        bool, typer.Option("--admin", help="May manage agents and customers' data too.")
    ] = False,
) -> None:
    """Create an agent who signs in to the API and the console."""
    from escalation.auth import create_agent
    from escalation.db import prepare, session_scope
    from escalation.models import Role

    password = _read_password(email, from_stdin=password_stdin)
    role = Role.ADMIN if admin else Role.AGENT
    with session_scope(prepare(get_settings())) as session:
        agent = create_agent(session, email=email, name=name, password=password, role=role)
        print(f"{role.value} #{agent.id} {agent.email} created; customers see them as {agent.name}")


@agent_app.command("role")
def agent_role(
    email: Annotated[str, typer.Argument(help="The agent's sign-in email.")],
    admin: Annotated[
        bool, typer.Option("--admin", help="Manage agents and data; edit the FAQ.")
    ] = False,
    editor: Annotated[
        bool, typer.Option("--editor", help="Write and publish FAQ entries.")
    ] = False,
    agent: Annotated[bool, typer.Option("--agent", help="Answer tickets only.")] = False,
) -> None:
    """Make an agent an admin, an FAQ editor, or a plain agent again."""
    from escalation.models import Role

    chosen = [
        role
        for role, flag in ((Role.ADMIN, admin), (Role.EDITOR, editor), (Role.AGENT, agent))
        if flag
    ]
    if len(chosen) != 1:
        raise typer.BadParameter("give one of --admin, --editor, --agent")
    with _agent_session(email) as (_, account):
        account.role = chosen[0]
        print(f"{account.email} is now {account.role.value}")


@agent_app.command("skills")
def agent_skills(
    email: Annotated[str, typer.Argument(help="The agent's sign-in email.")],
    languages: Annotated[
        str, typer.Option(help="Languages they answer in, ISO codes: 'nl,en'. Empty: none.")
    ],
    team: Annotated[str | None, typer.Option(help="Their team (see routing in sla.yml).")] = None,
) -> None:
    """Set what new tickets are routed to an agent by (escalation/routing.py)."""
    codes = sorted({code.strip().lower() for code in languages.split(",") if code.strip()})
    if any(not code.isalpha() or len(code) > 8 for code in codes):
        raise ConfigurationError(f"languages must be ISO codes such as 'nl,en', not {languages!r}")
    with _agent_session(email) as (_, agent):
        agent.languages, agent.team = codes, team or None
        print(f"{agent.email}: languages {', '.join(codes) or 'none'}; team {agent.team or 'none'}")


@agent_app.command("password")
def agent_password(
    email: Annotated[str, typer.Argument(help="The agent's sign-in email.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a new password; the agent is signed out everywhere."""
    from escalation.auth import set_password

    with _agent_session(email) as (session, agent):
        set_password(
            session, agent=agent, password=_read_password(email, from_stdin=password_stdin)
        )
        print(f"new password set for {agent.email}; their sessions ended")


@agent_app.command("disable")
def agent_disable(email: Annotated[str, typer.Argument(help="The agent's sign-in email.")]) -> None:
    """Stop an agent signing in, and end their sessions; their tickets keep their name."""
    from escalation.auth import disable_agent

    with _agent_session(email) as (session, agent):
        disable_agent(session, agent=agent)
        print(f"{agent.email} can no longer sign in")


@app.command("backup")
def backup_command(
    target: Annotated[Path, typer.Argument(help="A new directory for the backup.")],
) -> None:
    """Back up the ticket database, Rasa's tracker store and the conversation secret, online
    and consistent (SQLite's backup API, pg_dump)."""
    from escalation.backup import backup

    written = backup(get_settings(), target)
    print(f"backed up to {target}: {', '.join(written)}")


@app.command("restore")
def restore_command(
    source: Annotated[Path, typer.Argument(help="A directory `helpdesk backup` wrote.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace the databases with a backup. Stop the helpdesk first."""
    from escalation.backup import restore

    if not yes:
        typer.confirm(f"Replace the current data with the backup in {source}?", abort=True)
    restored = restore(get_settings(), source)
    print(f"restored from {source}: {', '.join(restored)}")


ConversationIds = Annotated[
    list[str], typer.Argument(help="Conversation ids (a ticket shows its conversation id).")
]


@customer_app.command("export")
def customer_export(conversation_id: Annotated[str, typer.Argument()]) -> None:
    """Print, as JSON, everything stored about a conversation: tickets, transcripts and
    Rasa's record of every message."""
    from escalation.db import prepare
    from escalation.privacy import export_customer

    settings = get_settings()
    prepare(settings)
    print(json.dumps(export_customer(settings, conversation_id=conversation_id), indent=2))


@customer_app.command("erase")
def customer_erase(
    conversation_ids: ConversationIds,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase conversations from the ticket database and Rasa's tracker store, for good."""
    from escalation.db import prepare
    from escalation.privacy import erase_customers

    if not yes:
        typer.confirm(f"Erase {len(conversation_ids)} conversation(s) for good?", abort=True)
    settings = get_settings()
    prepare(settings)
    erased = erase_customers(settings, conversation_ids)
    print(
        f"erased {erased.conversations} conversation(s): {erased.tickets} ticket(s), "
        f"{erased.tracker_events} tracker event(s)"
    )


@customer_app.command("retention")
def customer_retention(
    days: Annotated[
        int | None, typer.Option(min=1, help="Default: HELPDESK_RETENTION_DAYS.")
    ] = None,
) -> None:
    """Erase now every conversation whose tickets were all resolved more than DAYS ago
    (the API does this once a day when HELPDESK_RETENTION_DAYS is set)."""
    from escalation.db import prepare
    from escalation.privacy import apply_retention

    settings = get_settings()
    days = days or settings.retention_days
    if days is None:
        raise ConfigurationError("give --days or set HELPDESK_RETENTION_DAYS")
    prepare(settings)
    erased = apply_retention(settings, days=days)
    print(f"erased {erased.conversations} conversation(s) resolved more than {days} days ago")


class ReportFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    PNG = "png"


class Bucket(StrEnum):
    DAY = "day"
    WEEK = "week"


class BreakdownBy(StrEnum):
    LANGUAGE = "language"
    CHANNEL = "channel"


@app.command("report")
def report_command(
    since: Annotated[
        str, typer.Option(help="7d, 24h, 2w before now, or a date (2026-11-01).")
    ] = "7d",
    until: Annotated[str | None, typer.Option(help="A date; default now.")] = None,
    output_format: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.TABLE,
    output: Annotated[
        Path | None, typer.Option(help="Write here (png: default report.png); else stdout.")
    ] = None,
    bucket: Annotated[Bucket, typer.Option()] = Bucket.DAY,
    by: Annotated[BreakdownBy, typer.Option()] = BreakdownBy.LANGUAGE,
    time_zone: Annotated[
        str,
        typer.Option(
            "--tz", help="IANA zone of the days, weeks, dates and times shown (Europe/Amsterdam)."
        ),
    ] = "UTC",
) -> None:
    """What the bot resolved and how people did: containment, verified deflection, answer
    acceptance per FAQ entry, response and resolution times, CSAT, escalation reasons."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from escalation import report
    from escalation.db import prepare, session_scope
    from escalation.models import utc_now

    settings = get_settings()
    now = utc_now()
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise typer.BadParameter(f"{time_zone!r} is not an IANA time zone") from None
    try:
        start = report.parse_since(since, now, zone)
        end = report.parse_since(until, now, zone) if until else None
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    with session_scope(prepare(settings)) as session:
        built = report.build(
            session,
            since=start,
            until=end,
            bucket=bucket.value,
            by=by.value,
            zone=zone,
        )
    if output_format == ReportFormat.PNG:
        path = output or Path("report.png")
        report.as_png(built, path)
        print(f"wrote {path}")
        return
    render = {"table": report.as_table, "csv": report.as_csv, "json": report.as_json}
    text = render[output_format.value](built)
    if output:
        output.write_text(text, encoding="utf-8")
        print(f"wrote {output}")
    else:
        sys.stdout.write(text)


@contextmanager
def _agent_session(email: str) -> Iterator[tuple[Session, Agent]]:
    from escalation.auth import agent_by_email
    from escalation.db import prepare, session_scope
    from escalation.errors import NotFoundError

    with session_scope(prepare(get_settings())) as session:
        agent = agent_by_email(session, email=email)
        if agent is None:
            raise NotFoundError(f"no agent with email {email}")
        yield session, agent


def _read_password(email: str, *, from_stdin: bool) -> str:
    import getpass

    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return getpass.getpass(f"password for {email}: ")


@kb_app.command("gaps")
def kb_gaps(
    since: Annotated[str, typer.Option(help="7d, 30d, 2w before now, or a date.")] = "30d",
    language: Annotated[str | None, typer.Option(help="Only this language.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Groups shown.")] = 20,
) -> None:
    """The questions the bot could not settle (declined, asked which, "did not help"),
    grouped by meaning per language, largest first: what the FAQ is missing."""
    from escalation.analytics import Scope
    from escalation.db import prepare, session_scope
    from escalation.gaps import gap_clusters
    from escalation.models import utc_now
    from escalation.report import parse_since

    now = utc_now()
    try:
        start = parse_since(since, now)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    with session_scope(prepare(get_settings())) as session:
        clusters = gap_clusters(session, Scope(start, now, language))
    if not clusters:
        print("no knowledge gaps recorded in that period")
    for cluster in clusters[:limit]:
        print(
            f"[{cluster.language}] {cluster.size} question(s) in {cluster.conversations}"
            f" conversation(s): declined {cluster.declined}, asked which {cluster.clarified},"
            f" did not help {cluster.not_helped}; closest entry: {cluster.closest_entry or '-'}"
        )
        for question in cluster.questions:
            print(f"    “{question}”")
        for reply in cluster.agent_replies:
            print(f"    agent: {reply}")


def _knowledge_base(settings: Settings) -> KnowledgeBase:
    from knowledge.factory import knowledge_base_from

    return knowledge_base_from(settings)


@kb_app.command("build")
def kb_build() -> None:
    """Build the FAQ index and its calibration if the FAQ or the model changed."""
    from knowledge.loader import languages_mostly_without_alternatives

    kb = _knowledge_base(get_settings())
    rebuilt = kb.warm_up()
    print("index rebuilt" if rebuilt else "index up to date")
    print(kb.index.passages.describe())
    if single := languages_mostly_without_alternatives(kb.entries.values()):
        print(
            f"note: most FAQ entries have one question only in {', '.join(single)}. The bot "
            'answers much less reliably then (README, Measured: "every alternative removed"); '
            "add the ways customers ask as alternatives (`helpdesk kb gaps` groups the "
            "questions it could not settle).",
            file=sys.stderr,
        )


@kb_app.command("search")
def kb_search(text: Annotated[str, typer.Argument(help="A customer's message.")]) -> None:
    """Show what the bot decides for a message: language, answer and top hits (JSON)."""
    answer = _knowledge_base(get_settings()).answer(text)
    print(json.dumps(
        {
            "language": answer.language.lang,
            "answered": answer.answered,
            "entry_id": answer.entry_id,
            "answer": answer.text,
            "hits": [vars(hit) for hit in answer.hits],
        },
        ensure_ascii=False,
        indent=2,
    ))  # fmt: skip


@kb_app.command("export")
def kb_export(
    out: Annotated[
        Path, typer.Option(help="The file to write: .yaml (the FAQ files' format) or .csv.")
    ],
) -> None:
    """Write the live FAQ, the FAQ files with the entries published in the console, as one
    YAML file (to become the FAQ files of a fresh install) or as CSV (what `kb eval` reads)."""
    from escalation.db import prepare, session_scope
    from escalation.faq_entries import published_documents
    from knowledge.loader import dump_csv, dump_yaml, load_faq, with_live_entries

    settings = get_settings()
    with session_scope(prepare(settings)) as session:
        documents = published_documents(session)
    entries = with_live_entries(load_faq(settings.faq_path), documents)
    if out.suffix.lower() in (".yaml", ".yml"):
        written = f"{dump_yaml(entries, out)} entries"
    else:
        written = f"{dump_csv(entries, out)} rows"
    print(f"{written} ({len(documents)} entries from the console) written to {out}")


@kb_app.command("eval")
def kb_eval(
    questions: Annotated[
        list[Path], typer.Argument(help="JSONL files of labelled questions; pooled.")
    ],
    faq: Annotated[
        Path | None,
        typer.Option(
            help="The FAQ asked: a directory of YAML files, a YAML file or a CSV (as `kb "
            "export` writes); default the configured one (HELPDESK_FAQ_PATH)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    details: Annotated[
        Path | None,
        typer.Option(help="Write every question's move, top hits and scores here (JSON)."),
    ] = None,
) -> None:
    """Evaluate the bot's answers on labelled questions, calibrated on the FAQ alone."""
    from knowledge.evaluation import details as outcome_details
    from knowledge.evaluation import format_report, summarise

    settings = get_settings()
    outcomes = _outcomes(faq or settings.faq_path, questions, settings)
    report = summarise(outcomes)
    print(json.dumps(report, ensure_ascii=False) if as_json else format_report(report))
    if details:
        details.write_text(
            json.dumps(outcome_details(outcomes), ensure_ascii=False, indent=1), encoding="utf-8"
        )
        print(f"details of {len(outcomes)} questions written to {details}", file=sys.stderr)


def _outcomes(faq: Path, questions: list[Path], settings: Settings) -> list[Outcome]:
    """The bot's decision on every labelled question, calibrated on the FAQ alone."""
    from knowledge.evaluation import run_questions
    from knowledge.factory import embedder_from

    return run_questions(
        faq=faq,
        questions_paths=questions,
        embedder=embedder_from(settings),
        default_language=settings.default_language,
        answer_threshold=settings.answer_threshold,
    )


@kb_app.command("calibrate")
def kb_calibrate(
    questions: Annotated[
        list[Path] | None,
        typer.Argument(help="JSONL files of labelled questions about the configured FAQ."),
    ] = None,
    without_labelled: Annotated[
        bool,
        typer.Option(
            "--without-labelled", help="Forget the labelled questions given before; the FAQ alone."
        ),
    ] = False,
) -> None:
    """Derive the answer policy from the FAQ now (automatic when the FAQ or model changes).
    Labelled questions, when given, refine it, and are kept: every later calibration of the
    FAQ (an edit, a published entry) is refined by them too, until new ones are given."""
    from knowledge.calibration import LabelledCase, calibrate, load_labelled, save_labelled
    from knowledge.evaluation import load_questions
    from knowledge.policy_store import LABELLED_FILE, policy_as_json, save_calibration

    if questions and without_labelled:
        raise typer.BadParameter("give labelled questions or --without-labelled, not both")
    kb = _knowledge_base(get_settings())
    kb.warm_up(progress=False)
    entries = list(kb.entries.values())
    kept = kb.index_dir / LABELLED_FILE
    if questions:
        labelled = [
            LabelledCase(q.text, q.lang, q.expected_id)
            for path in questions
            for q in load_questions(path, set(kb.entries))
        ]
        save_labelled(kept, labelled)
    elif without_labelled:
        kept.unlink(missing_ok=True)
        labelled = []
    else:
        labelled = load_labelled(kept, entries)
    calibration = calibrate(entries, kb.index, kb.embedder, labelled=labelled)
    save_calibration(kb.index_dir, calibration)
    print(json.dumps(
        {"policy": policy_as_json(calibration.policy), "figures": calibration.figures},
        ensure_ascii=False,
        indent=2,
    ))  # fmt: skip
    print(
        f"stored in {kb.index_dir}"
        + (
            f", with {len(labelled)} labelled questions kept for later calibrations"
            if labelled
            else ""
        ),
        file=sys.stderr,
    )


if __name__ == "__main__":
    sys.exit(main())
