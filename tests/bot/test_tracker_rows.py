"""Rasa's SQL tracker store, read and written as rows (bot/launcher.py), stores and returns
exactly what Rasa's own code does: the same rows, the same conversation read back, either way
round. In the Rasa environment, on SQLite files."""

from __future__ import annotations

from pathlib import Path

from tests.bot.rasa_env import last_json_line

CHECK = """
import asyncio, json, sqlite3, sys
from pathlib import Path
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from bot import launcher

rasa_save, rasa_retrieve = SQLTrackerStore.save, SQLTrackerStore._retrieve
launcher._read_and_write_tracker_events_as_rows()
our_save, our_retrieve = SQLTrackerStore.save, SQLTrackerStore._retrieve
assert our_save is not rasa_save and our_retrieve is not rasa_retrieve

domain = Domain.load("domain.yml")
parse = {"intent": {"name": "faq", "confidence": 0.97}, "entities": [], "text": "wo?"}

def turn(number):
    return [
        UserUttered("wo ist mein Paket? %d" % number, parse_data=parse, metadata={"locale": "de"}),
        ActionExecuted("action_answer_faq", policy="RulePolicy", confidence=1.0),
        BotUttered("Ihr Paket", {"buttons": [{"title": "Ja", "payload": "/affirm"}]}),
        SlotSet("language", "de"),
        SlotSet("tried_entries", [{"question": "wo", "hits": [["a", 0.91]]}]),
        ActionExecuted("action_listen"),
    ]

def conversation(turns):
    events = [ActionExecuted("action_session_start"), SessionStarted()]
    events.append(ActionExecuted("action_listen"))
    for number in range(turns):
        events += turn(number)
    return events

def rows(path):
    columns = "sender_id, type_name, timestamp, intent_name, action_name, data"
    with sqlite3.connect(path) as connection:
        return connection.execute(f"SELECT {columns} FROM events ORDER BY id").fetchall()

async def main(directory):
    stores, first, later = {}, conversation(2), turn(2)
    for name, save in (("rasa", rasa_save), ("ours", our_save)):
        store = SQLTrackerStore(domain, dialect="sqlite", db=str(Path(directory) / f"{name}.db"))
        tracker = DialogueStateTracker.from_events("c1", first, domain.slots)
        await save(store, tracker)
        for event in later:  # a later turn adds only its own events
            tracker.update(event)
        await save(store, tracker)
        stores[name] = store
    read = {}
    for store_name, store in stores.items():
        for reader, retrieve in (("rasa", rasa_retrieve), ("ours", our_retrieve)):
            tracker = await retrieve(store, "c1", False)
            read[store_name + "/" + reader] = [event.as_dict() for event in tracker.events]
        read[store_name + "/missing"] = await our_retrieve(store, "nobody", False)
    return {
        "rows_rasa": rows(Path(directory) / "rasa.db"),
        "rows_ours": rows(Path(directory) / "ours.db"),
        "read": read,
    }

print(json.dumps(asyncio.run(main(sys.argv[1]))))
"""


def test_tracker_rows_are_rasa_s_own(tmp_path: Path) -> None:
    found = last_json_line(CHECK, str(tmp_path))
    assert len(found["rows_rasa"]) >= 3 + 3 * 6  # Rasa may add its own
    assert found["rows_ours"] == found["rows_rasa"]
    read = found["read"]
    assert read["rasa/missing"] is None and read["ours/missing"] is None
    expected = read["rasa/rasa"]
    assert expected and expected[0]["event"] == "session_started"
    for way in ("rasa/ours", "ours/rasa", "ours/ours"):
        assert read[way] == expected, way
