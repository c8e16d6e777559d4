"""Benchmark: our FAQ turn against a plain Rasa FAQ bot's, in one run, interleaved. Not a test.

The plain bot is what Rasa's documentation builds for FAQs: the sample FAQ's English entries
as retrieval intents (``faq/<entry>``) answered by a ResponseSelector through one rule, no
custom action, the same SQL tracker store on SQLite. The same bot with one custom action is
the floor of any bot whose answer comes from an action server, as ours must (Rasa and our
packages run in two environments): its rule runs ``action_plain_faq`` on a rasa_sdk server,
which only says the ResponseSelector's answer. Models are trained once and kept in var/models
by the hash of what they are made of. Our stack is the default one (action server, Rasa, API).
The same questions go to all three, one after the other, a new conversation every 10 turns; it
prints p50/p95 of each and the ratios. The Rasa servers get the same environment, one
TensorFlow thread each (helpdesk/rasa_project.py SERVING_THREADS), as ours is served.

    .venv/bin/python scripts/bench_turn.py --turns 300
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from benchkit import p95, print_rss, throwaway_stack

from core.identity import new_conversation_id
from core.settings import PROJECT_ROOT, conversation_secret, get_settings
from helpdesk.rasa_project import rasa_environment
from helpdesk.supervisor import ManagedProcess, ProcessGroup, free_port
from knowledge.base import RECENT_QUESTIONS
from knowledge.loader import load_faq

TURNS_PER_CONVERSATION = 10
PLAIN_CONFIG = {
    "recipe": "default.v1",
    "assistant_id": "plain-faq",
    "language": "en",
    "pipeline": [
        {"name": "WhitespaceTokenizer"},
        {"name": "CountVectorsFeaturizer"},
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 4},
        {"name": "DIETClassifier", "epochs": 80, "random_seed": 42},
        {"name": "ResponseSelector", "epochs": 80, "random_seed": 42},
    ],
    "policies": [{"name": "RulePolicy"}],
}


PLAIN_GREETINGS = ("hi", "hello", "hey", "good morning", "good evening", "hi there", "hello!")
#: The plain bot's one custom action: the ResponseSelector's answer, said from an action server.
PLAIN_ACTION = "action_plain_faq"
PLAIN_ACTIONS_MODULE = f'''
from rasa_sdk import Action


class ActionPlainFaq(Action):
    def name(self):
        return "{PLAIN_ACTION}"

    async def run(self, dispatcher, tracker, domain):
        selector = tracker.latest_message.get("response_selector", {{}})
        selected = selector.get("faq") or selector.get("default") or {{}}
        responses = selected.get("response", {{}}).get("responses") or [{{}}]
        dispatcher.utter_message(text=responses[0].get("text") or "")
        return []
'''


def plain_project(directory: Path, *, custom_action: bool = False) -> Path:
    """The plain FAQ bot's files in ``directory`` (``custom_action``: answering through
    PLAIN_ACTION instead of the retrieval response)."""
    entries = [e for e in load_faq(PROJECT_ROOT / "knowledge" / "faq") if "en" in e.variants]
    nlu = [
        {
            "intent": f"faq/{e.id}",
            "examples": "".join(f"- {p}\n" for p in e.variants["en"].phrasings),
        }
        for e in entries
    ]
    # A second intent, as every bot has: with "faq" alone the intent classifier is never
    # trained, every message parses to no intent, and the bot says nothing (until 2026-12-06
    # this benchmark timed that silence as the plain bot's turn).
    nlu.append({"intent": "greet", "examples": "".join(f"- {g}\n" for g in PLAIN_GREETINGS)})
    responses = {f"utter_faq/{e.id}": [{"text": e.variants["en"].answer}] for e in entries}
    responses["utter_greet"] = [{"text": "Hello! Ask me anything about your order."}]
    answering = PLAIN_ACTION if custom_action else "utter_faq"
    rules = [
        {"rule": "answer an FAQ", "steps": [{"intent": "faq"}, {"action": answering}]},
        {"rule": "greet", "steps": [{"intent": "greet"}, {"action": "utter_greet"}]},
    ]
    domain: dict[str, Any] = {
        "version": "3.1",
        "intents": ["faq", "greet"],
        "responses": responses,
        "session_config": {
            "session_expiration_time": 60,
            "carry_over_slots_to_new_session": True,
        },
    }
    if custom_action:
        domain["actions"] = [PLAIN_ACTION]
    files = {
        "config.yml": PLAIN_CONFIG,
        "domain.yml": domain,
        "data/nlu.yml": {"version": "3.1", "nlu": nlu},
        "data/rules.yml": {"version": "3.1", "rules": rules},
    }
    for name, content in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    return directory


def plain_model(directory: Path) -> Path:
    """The plain bot's model, trained unless one for the same files is kept."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*.yml")):
        digest.update(path.read_bytes())
    models = get_settings().models_dir
    model = models / f"plain-faq-{digest.hexdigest()[:16]}.tar.gz"
    if not model.exists():
        rasa = get_settings().rasa_python.parent / "rasa"
        command = [str(rasa), "train", "--out", str(models), "--fixed-model-name", model.stem[:-4]]
        subprocess.run(command, cwd=directory, env=rasa_environment(), check=True)
    return model


def plain_rasa(
    directory: Path, model: Path, port: int, action_port: int | None = None
) -> ManagedProcess:
    (directory / "credentials.yml").write_text("rest:\n", encoding="utf-8")
    endpoints: dict[str, Any] = {
        "tracker_store": {"type": "SQL", "dialect": "sqlite", "db": str(directory / "t.db")}
    }
    if action_port is not None:
        endpoints["action_endpoint"] = {"url": f"http://127.0.0.1:{action_port}/webhook"}
    (directory / "endpoints.yml").write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    rasa = get_settings().rasa_python.parent / "rasa"
    return ManagedProcess(
        name="plain Rasa",
        command=[
            str(rasa),
            "run",
            "--model",
            str(model),
            "--port",
            str(port),
            "--interface",
            "127.0.0.1",
            "--endpoints",
            "endpoints.yml",
            "--credentials",
            "credentials.yml",
        ],
        health_url=f"http://127.0.0.1:{port}/",
        log_path=directory / "rasa.log",
        env=rasa_environment(serving=True) | {"SQLALCHEMY_SILENCE_UBER_WARNING": "1"},
        cwd=directory,
    )


def plain_action_server(directory: Path, port: int) -> ManagedProcess:
    """rasa_sdk serving PLAIN_ACTION, in our environment as our action server runs."""
    (directory / "plain_actions.py").write_text(PLAIN_ACTIONS_MODULE, encoding="utf-8")
    return ManagedProcess(
        name="plain action server",
        command=[
            sys.executable,
            "-m",
            "rasa_sdk",
            "--actions",
            "plain_actions",
            "--port",
            str(port),
        ],
        health_url=f"http://127.0.0.1:{port}/health",
        log_path=directory / "actions.log",
        env=dict(os.environ) | {"PYTHONPATH": str(directory)},
        cwd=directory,
    )


def questions() -> list[str]:
    """The English questions of the sample FAQ's three question sets: more than the action
    server keeps vectors for (RECENT_QUESTIONS), so every turn embeds its question."""
    texts: dict[str, None] = {}
    for name in ("questions.jsonl", "questions_test.jsonl", "questions_holdout.jsonl"):
        lines = (PROJECT_ROOT / "knowledge" / "eval" / name).read_text(encoding="utf-8")
        for line in lines.splitlines():
            if line.strip() and (question := json.loads(line))["lang"] == "en":
                texts[question["text"]] = None
    if len(texts) <= RECENT_QUESTIONS:
        raise SystemExit(f"{len(texts)} questions would be answered from the vector cache")
    return list(texts)


def turn(client: httpx.Client, url: str, sender: str, text: str) -> float:
    started = time.perf_counter()
    response = client.post(url, json={"sender": sender, "message": text}, timeout=60)
    took = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    if not any(message.get("text") for message in response.json()):
        raise SystemExit(f"{url} said nothing to {text!r}: a turn that did not happen")
    return took


OURS, PLAIN, PLAIN_WITH_ACTION = "our FAQ turn", "plain Rasa", "plain Rasa + custom action"


def compare(turns: int) -> dict[str, list[float]]:
    """``turns`` FAQ turns on our stack and on both plain bots, interleaved: latencies (ms)."""
    texts = questions()
    with tempfile.TemporaryDirectory(prefix="plain-faq-") as scratch:
        plain = plain_project(Path(scratch) / "plain")
        with_action = plain_project(Path(scratch) / "action", custom_action=True)
        group = ProcessGroup()
        try:
            plain_port = free_port()
            group.start(plain_rasa(plain, plain_model(plain), plain_port), timeout=240)
            action_port = free_port()
            group.start(plain_action_server(with_action, action_port), timeout=60)
            with_action_port = free_port()
            model = plain_model(with_action)
            group.start(plain_rasa(with_action, model, with_action_port, action_port), timeout=240)
            with throwaway_stack() as (settings, processes), httpx.Client() as client:
                urls = {
                    OURS: f"http://{settings.host}:{settings.rasa_port}",
                    PLAIN: f"http://127.0.0.1:{plain_port}",
                    PLAIN_WITH_ACTION: f"http://127.0.0.1:{with_action_port}",
                }
                latencies = play(client, urls, texts, turns, conversation_secret(settings))
                report(latencies)
                print_rss(processes)
        finally:
            group.stop_all()
    return latencies


def play(
    client: httpx.Client, urls: dict[str, str], texts: list[str], turns: int, secret: str
) -> dict[str, list[float]]:
    """Each turn to every bot in turn, after 20 turns of warm-up: the latencies per bot."""
    latencies: dict[str, list[float]] = {name: [] for name in urls}
    for number in range(turns + 20):
        if number % TURNS_PER_CONVERSATION == 0:
            sender = new_conversation_id(secret)
        text = texts[number % len(texts)]
        for name, url in urls.items():
            took = turn(client, f"{url}/webhooks/rest/webhook", sender, text)
            if number >= 20:
                latencies[name].append(took)
    return latencies


def report(latencies: dict[str, list[float]]) -> None:
    for name, values in latencies.items():
        print(f"{name:<28} p50 {statistics.median(values):6.1f} ms  p95 {p95(values):6.1f} ms")
    for over, under in ((OURS, PLAIN), (PLAIN_WITH_ACTION, PLAIN), (OURS, PLAIN_WITH_ACTION)):
        a, b = latencies[over], latencies[under]
        print(
            f"{over} / {under}: p50 {statistics.median(a) / statistics.median(b):.2f}, "
            f"p95 {p95(a) / p95(b):.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=300)
    compare(parser.parse_args().turns)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
