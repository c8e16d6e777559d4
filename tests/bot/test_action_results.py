"""The per-event check of action-server responses accepts and rejects what Rasa's whole
schema does, on Rasa's own schema, in the Rasa environment (bot/action_results.py)."""

from __future__ import annotations

import json

from tests.bot.rasa_env import last_json_line

RESPONSES: list[object] = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "language", "value": "de", "timestamp": None}]},
    {"events": [{"event": "followup", "name": "action_relay_to_agent"}]},
    {"events": [{"event": "bot", "text": "Hallo", "data": {"buttons": []}, "metadata": {}}]},
    {
        "events": [
            {
                "event": "user",
                "text": "hi",
                "parse_data": {"intent": {"name": "greet", "confidence": 0.9}, "entities": []},
            },
            {"event": "action", "name": "action_listen", "policy": None, "confidence": 1.0},
        ],
        "responses": [{"response": "utter_greet", "language": "de"}],
    },
    {"events": [{"event": "restart"}, {"event": "session_started"}]},
    {"events": [{"event": "no_such_event"}]},  # no alternative has this name
    {"events": [{"name": "language", "value": "de"}]},  # no event name
    {"events": [{"event": "slot", "name": "language", "timestamp": "yesterday"}]},
    {"events": [{"event": "slot", "name": 7, "value": "de"}]},  # a slot's name is a string
    {"events": [{"event": "user", "text": 42}]},
    {"events": [{"event": "action", "name": ["action_listen"]}]},
    {"events": "slot"},
    {"events": [{"event": "slot", "name": "language", "metadata": "from the action"}]},
    {"responses": "utter_greet"},
]

CHECK = """
import json, sys
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from bot.action_results import ActionResultValidator, split_by_event_name

schema = RemoteAction.action_response_format_spec()
whole = validator_for(schema)(schema)
ours = ActionResultValidator(schema)

def accepts(result):
    try:
        ours.validate(result)
    except ValidationError:
        return False
    return True

responses = json.loads(sys.argv[1])
print(json.dumps({
    "split": split_by_event_name(schema) is not None,
    "whole": [whole.is_valid(r) for r in responses],
    "ours": [accepts(r) for r in responses],
}))
"""


def test_each_event_is_checked_as_rasa_s_whole_schema_checks_it() -> None:
    verdicts = last_json_line(CHECK, json.dumps(RESPONSES))
    assert verdicts["split"], "Rasa's schema is no longer one oneOf told apart by event name"
    assert verdicts["ours"] == verdicts["whole"]
    assert verdicts["whole"][:6] == [True] * 6
    assert verdicts["whole"][6:] == [False] * (len(RESPONSES) - 6)
