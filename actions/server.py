"""The action server: warm the knowledge base, then serve rasa_sdk's webhook."""

from __future__ import annotations

import argparse
import os
import warnings

from core.logs import configure_logging
from core.settings import get_settings


def main(argv: list[str] | None = None) -> None:
    """Start the rasa_sdk action server on the configured host and port."""
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="helpdesk action-server")
    parser.add_argument("--port", type=int, default=settings.action_port)
    args = parser.parse_args(argv)
    configure_logging(settings.log_level, settings.log_format)

    from rasa_sdk.endpoint import run
    from rasa_sdk.plugin import plugin_manager

    from actions.embed_ahead import EmbedAheadRoute
    from actions.executor import DomainlessExecutor
    from actions.metrics import MetricsRoute
    from actions.runtime import (
        get_keyword_rules,
        get_knowledge_base,
        get_live_faq,
        get_sla_policy,
    )
    from escalation.db import prepare

    # Load the model and index before accepting calls: the first customer does not wait.
    get_knowledge_base().warm_up(progress=False)
    prepare(settings)  # idempotent; the API does the same
    get_live_faq().refresh()  # the entries published in the console, then every second
    get_live_faq().watch()
    get_keyword_rules()  # a malformed rules file stops the start, not a conversation
    get_sla_policy()
    plugin_manager().register(MetricsRoute())  # GET /metrics (actions/metrics.py)
    plugin_manager().register(EmbedAheadRoute())  # POST /embed-ahead (actions/embed_ahead.py)
    executor = DomainlessExecutor()
    executor.register_package("actions")
    os.environ["SANIC_HOST"] = settings.host
    # rasa-sdk 3.14 serves Rasa 3.6's webhook protocol unchanged (the e2e tests prove it);
    # its start-up warning about differing version numbers is expected.
    warnings.filterwarnings("ignore", message="Your versions of rasa and rasa_sdk")
    # rasa_sdk reads only the optional `tracing` section of endpoints.yml.
    endpoints = settings.data_dir / "endpoints.yml"
    run(
        executor,
        port=args.port,
        cors_origins="",
        auto_reload=False,
        endpoints=str(endpoints) if endpoints.exists() else "",
    )


if __name__ == "__main__":
    main()
