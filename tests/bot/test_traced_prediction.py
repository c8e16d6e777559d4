"""DIET called as its one traced function (bot/launcher.py) predicts exactly what Rasa's
generic dispatch does: the same intents, the same confidences, on the trained model."""

from __future__ import annotations

from pathlib import Path

from tests.bot.rasa_env import last_json_line

CHECK = """
import asyncio, json, sys
from rasa.core.agent import Agent
from rasa.utils.tensorflow.models import RasaModel
from bot import launcher

MESSAGES = [
    "where is my parcel?", "hi", "thanks, bye", "I want to talk to a person",
    "wo ist mein Paket", "ticket 123 status?", "Πόσο κοστίζει η αποστολή;",
    "asdfgh", "no", "kan ik mijn schoenen ruilen voor een andere maat?",
    "x " * 300,
]

async def parse_all(agent):
    parsed = []
    for text in MESSAGES:
        result = await agent.parse_message(text)
        parsed.append([[i["name"], i["confidence"]] for i in result["intent_ranking"]])
    return parsed

generic = RasaModel._rasa_predict
stock = asyncio.run(parse_all(Agent.load(sys.argv[1])))
launcher._call_the_traced_prediction_directly()
assert RasaModel._rasa_predict is not generic
direct = asyncio.run(parse_all(Agent.load(sys.argv[1])))
print(json.dumps({"stock": stock, "direct": direct}))
"""


def test_the_traced_prediction_predicts_what_rasa_predicts(rasa_model: Path) -> None:
    result = last_json_line(CHECK, str(rasa_model))
    assert len(result["direct"]) == 11
    assert all(ranking for ranking in result["direct"])
    assert result["direct"] == result["stock"]
