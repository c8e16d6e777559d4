"""The `helpdesk` command: run the stack, train, and manage the knowledge base."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from helpdesk.settings import Settings, get_settings

if TYPE_CHECKING:
    from knowledge import KnowledgeBase
    from knowledge.evaluation import Outcome

logger = logging.getLogger("helpdesk")
QUIET_LOGGERS = ("faiss.loader", "alembic")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(name)s] %(message)s")
    for chatty in QUIET_LOGGERS:  # their start-up chatter says nothing a command's user needs
        logging.getLogger(chatty).setLevel(logging.WARNING)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args, get_settings()))
    except Exception as error:  # a clear one-line message, never a traceback, at the top
        from knowledge import KnowledgeError

        if isinstance(error, KnowledgeError | RuntimeError | OSError):
            print(f"error: {error}", file=sys.stderr)
            return 1
        raise


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helpdesk", description=__doc__)
    commands = parser.add_subparsers()

    run = commands.add_parser("run", help="train if needed, start every service, wait for Ctrl-C")
    run.set_defaults(handler=_run)

    train = commands.add_parser("train", help="train the Rasa model if its inputs changed")
    train.set_defaults(handler=_train)

    actions = commands.add_parser("action-server", help="run the Rasa action server")
    actions.add_argument("--port", type=int)
    actions.set_defaults(handler=_action_server)

    agent = commands.add_parser("agent", help="agent accounts").add_subparsers()
    add_agent = agent.add_parser("add", help="create an agent who signs in to the API/console")
    add_agent.add_argument("email")
    add_agent.add_argument("--name", default="", help="shown to customers (first name)")
    add_agent.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of prompting",
    )
    add_agent.set_defaults(handler=_agent_add)

    kb = commands.add_parser("kb", help="knowledge base").add_subparsers()
    build = kb.add_parser("build", help="build the FAQ index if the FAQ or model changed")
    build.set_defaults(handler=_kb_build)
    search = kb.add_parser("search", help="search the FAQ")
    search.add_argument("text")
    search.set_defaults(handler=_kb_search)
    export = kb.add_parser("export", help="write the FAQ as CSV (the format kb eval reads)")
    export.add_argument("--out", type=Path, required=True, help="CSV file to write")
    export.set_defaults(handler=_kb_export)
    evaluate = kb.add_parser("eval", help="evaluate answers on a labelled question set")
    _add_question_set_arguments(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument(
        "--details", type=Path, help="write every question's move, top hits and scores (JSON)"
    )
    evaluate.set_defaults(handler=_kb_eval)
    calibrate = kb.add_parser(
        "calibrate",
        help="derive the answer policy from the FAQ (automatic when the FAQ or model changes)",
    )
    calibrate.add_argument(
        "--questions",
        type=Path,
        nargs="*",
        default=[],
        help="JSONL of labelled questions about the configured FAQ, to refine the calibration",
    )
    calibrate.set_defaults(handler=_kb_calibrate)
    return parser


def _add_question_set_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--faq", type=Path, required=True, help="FAQ CSV (id,lang,question,answer)")
    parser.add_argument(
        "--questions",
        type=Path,
        nargs="+",
        required=True,
        help="JSONL of labelled questions; several files are pooled",
    )


def _agent_add(args: argparse.Namespace, settings: Settings) -> int:
    import getpass

    from sqlalchemy.orm import sessionmaker

    from escalation.auth import AccountError, create_agent
    from escalation.db import make_engine, migrate, session_scope

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.email}: ")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.database)
    try:
        with session_scope(sessionmaker(make_engine(settings.database))) as session:
            agent = create_agent(session, email=args.email, name=args.name, password=password)
            print(f"agent #{agent.id} {agent.email} created")
    except AccountError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from helpdesk.rasa_project import ensure_trained_model
    from helpdesk.stack import build_stack
    from helpdesk.supervisor import ProcessGroup, StartupError

    _knowledge_base().warm_up()  # build the index once, before two services load it
    model = ensure_trained_model(settings)
    group = ProcessGroup()
    stopping = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        for process in build_stack(settings, model):
            if stopping:
                break
            group.start(process, timeout=180)
        if not stopping:
            _print_addresses(settings)
        while not stopping:
            exited = group.first_exited()
            if exited:
                raise StartupError(f"{exited.name} stopped unexpectedly; see {exited.log_path}")
            time.sleep(0.5)
    finally:
        print("\nstopping…", file=sys.stderr)
        group.stop_all()
    return 0


def _print_addresses(settings: Settings) -> None:
    base = f"http://{settings.host}"
    print(
        f"""
The helpdesk is running. Press Ctrl-C to stop.
  Demo site+widget: {base}:{settings.api_port}/
  Agent console:    {base}:{settings.api_port}/console
  REST channel:     POST {base}:{settings.rasa_port}/webhooks/rest/webhook
                    body {{"sender": "me", "message": "hi"}}
  socket.io:        {base}:{settings.rasa_port}/socket.io  (events user_uttered / bot_uttered)
  Agent API docs:   {base}:{settings.api_port}/docs
                    (first agent: .venv/bin/helpdesk agent add you@example.com --name You)
  Logs:             {settings.data_dir / "logs"}
""",
        flush=True,
    )


def _train(args: argparse.Namespace, settings: Settings) -> int:
    from helpdesk.rasa_project import ensure_trained_model

    print(ensure_trained_model(settings))
    return 0


def _action_server(args: argparse.Namespace, settings: Settings) -> int:
    from actions.server import main as serve

    serve(["--port", str(args.port or settings.action_port)])
    return 0


def _knowledge_base() -> KnowledgeBase:
    """The process's knowledge base, built from the same get_settings() as every command."""
    from actions.runtime import get_knowledge_base

    return get_knowledge_base()


def _kb_build(args: argparse.Namespace, settings: Settings) -> int:
    rebuilt = _knowledge_base().warm_up()
    print("index rebuilt" if rebuilt else "index up to date")
    return 0


def _kb_search(args: argparse.Namespace, settings: Settings) -> int:
    answer = _knowledge_base().answer(args.text)
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
    return 0


def _kb_export(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.loader import dump_csv, load_faq

    rows = dump_csv(load_faq(settings.faq_path), args.out)
    print(f"{rows} rows written to {args.out}")
    return 0


def _outcomes(args: argparse.Namespace, settings: Settings) -> list[Outcome]:
    """The bot's decision on every labelled question, calibrated on the FAQ alone."""
    from actions.runtime import configured_embedder
    from knowledge.evaluation import run_questions

    return run_questions(
        faq_csv=args.faq,
        questions_paths=args.questions,
        embedder=configured_embedder(settings),
        default_language=settings.default_language,
        answer_threshold=settings.answer_threshold,
    )


def _kb_eval(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.evaluation import details, format_report, summarise

    outcomes = _outcomes(args, settings)
    report = summarise(outcomes)
    print(json.dumps(report, ensure_ascii=False) if args.json else format_report(report))
    if args.details:
        args.details.write_text(
            json.dumps(details(outcomes), ensure_ascii=False, indent=1), encoding="utf-8"
        )
        print(f"details of {len(outcomes)} questions written to {args.details}", file=sys.stderr)
    return 0


def _kb_calibrate(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.calibration import LabelledCase, calibrate, save_calibration
    from knowledge.evaluation import load_questions

    kb = _knowledge_base()
    kb.warm_up(progress=False)
    known = set(kb.entries)
    labelled = [
        LabelledCase(q.text, q.lang, q.expected_id)
        for path in args.questions
        for q in load_questions(path, known)
    ]
    calibration = calibrate(list(kb.entries.values()), kb.index, kb.embedder, labelled=labelled)
    save_calibration(kb.index_dir, calibration)
    print(json.dumps(
        {"policy": vars(calibration.policy), "figures": calibration.figures},
        default=dict,
        ensure_ascii=False,
        indent=2,
    ))  # fmt: skip
    print(f"stored in {kb.index_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
