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

logger = logging.getLogger("helpdesk")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(name)s] %(message)s")
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

    kb = commands.add_parser("kb", help="knowledge base").add_subparsers()
    build = kb.add_parser("build", help="build the FAQ index if the FAQ or model changed")
    build.set_defaults(handler=_kb_build)
    search = kb.add_parser("search", help="search the FAQ")
    search.add_argument("text")
    search.set_defaults(handler=_kb_search)
    evaluate = kb.add_parser("eval", help="evaluate answers on a labelled question set")
    evaluate.add_argument(
        "--faq", type=Path, required=True, help="FAQ CSV (id,lang,question,answer)"
    )
    evaluate.add_argument(
        "--questions", type=Path, required=True, help="JSONL of labelled questions"
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(handler=_kb_eval)
    return parser


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from helpdesk.rasa_project import ensure_trained_model
    from helpdesk.stack import build_stack
    from helpdesk.supervisor import ProcessGroup, StartupError

    _knowledge_base(settings).warm_up()  # build the index once, before two services load it
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
  Chat page:        {base}:{settings.api_port}/
  REST channel:     POST {base}:{settings.rasa_port}/webhooks/rest/webhook
                    body {{"sender": "me", "message": "hi"}}
  socket.io:        {base}:{settings.rasa_port}/socket.io  (events user_uttered / bot_uttered)
  API docs:         {base}:{settings.api_port}/docs
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


def _knowledge_base(settings: Settings) -> KnowledgeBase:
    from actions.runtime import get_knowledge_base

    return get_knowledge_base()


def _kb_build(args: argparse.Namespace, settings: Settings) -> int:
    rebuilt = _knowledge_base(settings).warm_up()
    print("index rebuilt" if rebuilt else "index up to date")
    return 0


def _kb_search(args: argparse.Namespace, settings: Settings) -> int:
    answer = _knowledge_base(settings).answer(args.text)
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


def _kb_eval(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.evaluation import evaluate, format_report

    report = evaluate(
        faq_csv=args.faq,
        questions_path=args.questions,
        model=settings.embedding_model,
        threads=settings.embedding_threads,
        default_language=settings.default_language,
        answer_threshold=settings.answer_threshold,
    )
    print(json.dumps(report, ensure_ascii=False) if args.json else format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
