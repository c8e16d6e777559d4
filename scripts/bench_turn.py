"""Benchmark: our FAQ turn against a plain Rasa FAQ bot's, in one run, interleaved. Not a test.

The plain bot is what Rasa's documentation builds for FAQs: the sample FAQ's English entries
as retrieval intents (``faq/<entry>``) answered by a ResponseSelector through one rule, no
custom action, the same SQL tracker store on SQLite. Its model is trained once and kept in
var/models by the hash of what it is made of. Our stack is the default one (action server,
Rasa, API). The same questions go to both, one after the other, a new conversation
every 10 turns; it prints p50/p95 of each and the ratios. Both Rasa servers get the same
environment, one TensorFlow thread each (helpdesk/rasa_project.py SERVING_THREADS), as ours is
served.

    .venv/bin/python scripts/bench_turn.py --turns 300
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

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


def plain_project(directory: Path) -> Path:
    """The plain FAQ bot's files in ``directory``."""
    entries = [e for e in load_faq(PROJECT_ROOT / "knowledge" / "faq") if "en" in e.variants]
    nlu = [
        {
            "intent": f"faq/{e.id}",
            "examples": "".join(f"- {p}\n" for p in e.variants["en"].phrasings),
        }
        for e in entries
    ]
    responses = {f"utter_faq/{e.id}": [{"text": e.variants["en"].answer}] for e in entries}
    rules = [{"rule": "answer an FAQ", "steps": [{"intent": "faq"}, {"action": "utter_faq"}]}]
    files = {
        "config.yml": PLAIN_CONFIG,
        "domain.yml": {
            "version": "3.1",
            "intents": ["faq"],
            "responses": responses,
            "session_config": {
                "session_expiration_time": 60,
                "carry_over_slots_to_new_session": True,
            },
        },
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


def plain_rasa(directory: Path, model: Path, port: int) -> ManagedProcess:
    (directory / "credentials.yml").write_text("rest:\n", encoding="utf-8")
    endpoints = {
        "tracker_store": {"type": "SQL", "dialect": "sqlite", "db": str(directory / "t.db")}
    }
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
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000


def compare(turns: int) -> tuple[list[float], list[float]]:
    """``turns`` FAQ turns on our stack and on the plain bot, interleaved: both latencies (ms)."""
    texts = questions()
    with tempfile.TemporaryDirectory(prefix="plain-faq-") as scratch:
        directory = plain_project(Path(scratch))
        model = plain_model(directory)
        plain = ProcessGroup()
        port = free_port()
        try:
            plain.start(plain_rasa(directory, model, port), timeout=240)
            with throwaway_stack() as (settings, processes), httpx.Client() as client:
                ours_url = f"http://{settings.host}:{settings.rasa_port}/webhooks/rest/webhook"
                plain_url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
                secret = conversation_secret(settings)
                ours: list[float] = []
                theirs: list[float] = []
                for number in range(turns + 20):  # the first 20: warm-up
                    if number % TURNS_PER_CONVERSATION == 0:
                        sender = new_conversation_id(secret)
                    text = texts[number % len(texts)]
                    ours_ms = turn(client, ours_url, sender, text)
                    plain_ms = turn(client, plain_url, sender, text)
                    if number >= 20:
                        ours.append(ours_ms)
                        theirs.append(plain_ms)
                for name, values in (("plain Rasa FAQ turn", theirs), ("our FAQ turn", ours)):
                    median = statistics.median(values)
                    print(f"{name:<20} p50 {median:6.1f} ms  p95 {p95(values):6.1f} ms")
                print(
                    f"ours / plain: p50 {statistics.median(ours) / statistics.median(theirs):.2f}, "
                    f"p95 {p95(ours) / p95(theirs):.2f}"
                )
                print_rss(processes)
        finally:
            plain.stop_all()
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=300)
    compare(parser.parse_args().turns)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
