"""rasa_sdk's executor for a Rasa that sends no domain with its action calls."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import ActionExecutor


class DomainlessExecutor(ActionExecutor):
    """Runs actions with an empty domain when Rasa sent none.

    Rasa 3.6 with ``enable_selective_domain`` (helpdesk/rasa_project.py) sends the domain only
    to actions that declare ``send_domain: true``; rasa-sdk 3.14 then expects a domain digest,
    a protocol Rasa 3.6 does not speak, and refuses the call. None of our actions reads the
    domain, so a missing one is an empty one.
    """

    def update_and_return_domain(
        self, payload: dict[str, Any], action_name: str
    ) -> dict[str, Any] | None:
        if payload.get("domain") is None:
            return {}
        domain: dict[str, Any] | None = super().update_and_return_domain(payload, action_name)
        return domain
