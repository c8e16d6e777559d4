"""Checking an action server's response against Rasa's schema, one event at a time.

Rasa's schema lists the event types as the alternatives of one ``oneOf`` (23 of them, told
apart by the ``event`` name), so a validator tries every alternative on every event: ≈ 0.5 ms
of the Rasa server's CPU per FAQ turn. Checked against only the alternative its name selects,
an event passes exactly when it passes the ``oneOf``: the other alternatives fail on the name.
Runs inside the Rasa 3.6 environment (Python 3.10).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from jsonschema import ValidationError
from jsonschema.validators import validator_for


class ActionResultValidator:
    """Validates action-server responses as ``jsonschema`` does with the whole schema."""

    def __init__(self, schema: dict[str, Any]) -> None:
        validator_class = validator_for(schema)
        validator_class.check_schema(schema)
        split = split_by_event_name(schema)
        if split is None:  # a schema of another shape: checked whole
            self._outer, self._per_event = validator_class(schema), None
            return
        outer, alternatives = split
        self._outer = validator_class(outer)
        self._per_event = {name: validator_class(part) for name, part in alternatives.items()}

    def validate(self, result: dict[str, Any]) -> None:
        """Raise ``jsonschema.ValidationError`` when ``result`` does not fit the schema."""
        self._outer.validate(result)
        if self._per_event is None:
            return
        for event in result.get("events") or []:
            validator = self._per_event.get(event["event"])
            if validator is None:
                raise ValidationError(f"{event!r} is not valid under any of the given schemas")
            validator.validate(event)


def split_by_event_name(
    schema: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]] | None:
    """The schema with each event held only to what every event shares, and each event name's
    alternative; None unless every alternative names one event of its own (nor uses $ref,
    which would not resolve in a part on its own)."""
    events = schema.get("properties", {}).get("events", {})
    items = events.get("items", {}) if isinstance(events, dict) else {}
    alternatives = items.get("oneOf") if isinstance(items, dict) else None
    if not alternatives or "$ref" in json.dumps(schema):
        return None
    by_name: dict[str, dict[str, Any]] = {}
    for alternative in alternatives:
        name = alternative.get("properties", {}).get("event", {}).get("const")
        if not isinstance(name, str) or name in by_name:
            return None
        by_name[name] = alternative
    if "event" not in items.get("required", []):
        return None
    outer = copy.deepcopy(schema)
    outer["properties"]["events"]["items"] = {k: v for k, v in items.items() if k != "oneOf"}
    return outer, by_name
