"""Start Rasa (train, run) with our small, reproducible patches applied first.

Runs in the Rasa 3.6 environment: ``.venv-rasa/bin/python -m bot.launcher run ...`` takes
exactly the arguments of the ``rasa`` command.

Patch: Rasa validates every action-server response against a JSON schema with
``jsonschema.validate``, which re-checks the schema itself and rebuilds a validator on every
call: a quarter of the Rasa server's CPU per message here (py-spy). We validate against the
same schema with one validator built once; invalid responses are still rejected the same way.

Patch: when the action server cannot be reached (it is restarting) or fails, Rasa logs the
error, drops the action's events and says nothing: a customer got silence. Here the customer
is told "one moment" (``utter_one_moment``, in the conversation's language) instead. Not for
``action_deliver``: the delivery worker triggered it and tries again on its own.

Also: ``rasa run`` gets its HTTP API token from HELPDESK_RASA_API_TOKEN, if set.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def _cache_action_response_validator() -> None:
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    validator: Any | None = None

    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        nonlocal validator
        if validator is None:
            schema = self.action_response_format_spec()
            validator_class = validator_for(schema)
            validator_class.check_schema(schema)
            validator = validator_class(schema)
        try:
            validator.validate(result)
            return True
        except ValidationError as error:
            error.message += (
                ". Failed to validate Action server response from API, make sure your "
                "response from the Action endpoint is valid. For more information about the "
                f"format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise error

    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]


#: The response Rasa says itself when a custom action cannot run (domain.yml).
ONE_MOMENT_RESPONSE = "utter_one_moment"
#: Actions triggered by the API, not by a customer: their caller retries, nobody waits.
SILENT_WHEN_AWAY = frozenset({"action_deliver"})


def _say_one_moment_when_the_action_server_is_away() -> None:
    import logging

    from rasa.core.actions.action import (
        ActionExecutionRejection,
        RemoteAction,
        create_bot_utterance,
    )
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import FollowupAction
    from rasa.shared.exceptions import RasaException

    logger = logging.getLogger("bot.launcher")
    run = RemoteAction.run

    async def run_or_say_one_moment(
        self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any
    ) -> list[Any]:
        try:
            return await run(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except RasaException as error:
            if self.name() in SILENT_WHEN_AWAY:
                raise
            logger.error("action %s failed, the customer is asked to wait: %s", self.name(), error)
            message = await nlg.generate(ONE_MOMENT_RESPONSE, tracker, output_channel.name())
            said = [create_bot_utterance(message)] if message else []
            # Once, and the turn ends: the rest of it would fail the same way.
            return [*said, FollowupAction(ACTION_LISTEN_NAME)]

    RemoteAction.run = run_or_say_one_moment  # type: ignore[method-assign]


def main() -> None:
    _cache_action_response_validator()
    _say_one_moment_when_the_action_server_is_away()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    token = os.environ.get("HELPDESK_RASA_API_TOKEN")
    if token and sys.argv[1:2] == ["run"] and "--auth-token" not in sys.argv:
        # here, not on the command line `ps` shows; "=" so a token starting with "-" is a value
        sys.argv += [f"--auth-token={token}"]
    rasa_main()


if __name__ == "__main__":
    main()
