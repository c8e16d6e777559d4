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
    evaluate.set_defaults(handler=_kb_eval)
    calibrate = kb.add_parser("calibrate", help="choose the answer thresholds on labelled data")
    _add_question_set_arguments(calibrate)
    calibrate.add_argument("--max-wrong", type=float, default=0.05, help="wrong-answer rate cap")
    calibrate.add_argument("--min-oos-recall", type=float, default=0.8)
    calibrate.add_argument(
        "--model-languages",
        default="",
        help="comma-separated languages the embedding model was trained on (empty: all)",
    )
    calibrate.add_argument(
        "--write", action="store_true", help="store the thresholds in knowledge/calibration.json"
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


def _outcomes(
    args: argparse.Namespace, settings: Settings, model_languages: frozenset[str] | None = None
) -> list[Outcome]:
    """The bot's decision on every labelled question; ``model_languages`` overrides the stored."""
    from dataclasses import replace

    from actions.runtime import configured_thresholds
    from knowledge.evaluation import run_questions

    thresholds = configured_thresholds(settings)
    if model_languages is not None:  # the search ranks by them: calibrate what will run
        thresholds = replace(thresholds, model_languages=model_languages)
    return run_questions(
        faq_csv=args.faq,
        questions_paths=args.questions,
        model=settings.embedding_model,
        thresholds=thresholds,
        threads=settings.embedding_threads,
        default_language=settings.default_language,
    )


def _kb_eval(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.evaluation import format_report, summarise

    report = summarise(_outcomes(args, settings))
    print(json.dumps(report, ensure_ascii=False) if args.json else format_report(report))
    return 0


def _kb_calibrate(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge import calibration

    languages = frozenset(filter(None, args.model_languages.split(","))) or None
    cases = [
        calibration.Case(o.question.expected_id, o.answer.hits, o.answer.language.lang)
        for o in _outcomes(args, settings, languages)
    ]
    limits = {"max_wrong": args.max_wrong, "min_oos_recall": args.min_oos_recall}
    trade_offs = calibration.sweep(cases, languages)
    chosen = calibration.choose(trade_offs, **limits)
    held_out = calibration.cross_validate(cases, languages, **limits)
    print("dense  other  margin  lexical  answer_accuracy  wrong_answer_rate  oos_recall")
    for t in [*calibration.frontier(trade_offs), chosen]:
        mark = "  <- chosen" if t is chosen else ""
        print(
            f"{t.thresholds.dense:5.3f}  {t.thresholds.dense_other:5.3f}  "
            f"{t.thresholds.margin_other:6.3f}  {t.thresholds.lexical:7.3f}  "
            f"{t.answer_accuracy:15.3f}"
            f"  {t.wrong_answer_rate:17.3f}  {t.oos_recall:10.3f}{mark}"
        )
    print(
        f"held-out (2-fold): answer_accuracy {held_out.answer_accuracy:.3f}, "
        f"wrong_answer_rate {held_out.wrong_answer_rate:.3f}, oos_recall {held_out.oos_recall:.3f}"
    )
    if args.write:
        calibration.save_thresholds(
            settings.embedding_model,
            chosen,
            {
                "questions": ", ".join(str(path) for path in args.questions),
                "answer_accuracy": round(chosen.answer_accuracy, 4),
                "wrong_answer_rate": round(chosen.wrong_answer_rate, 4),
                "oos_recall": round(chosen.oos_recall, 4),
            },
        )
        print(f"written to {calibration.CALIBRATION_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
