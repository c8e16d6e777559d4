"""A run's credentials.yml: the widget and REST always, a messaging app when it is set up."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from core.errors import ConfigurationError
from core.settings import Settings
from helpdesk.rasa_project import messaging_environment, write_credentials


def test_no_messaging_app_by_default(tmp_path: Path) -> None:
    channels = yaml.safe_load(
        write_credentials(Settings(data_dir=tmp_path), tmp_path / "c.yml").read_text()
    )
    assert list(channels) == [
        "bot.channels.signed.SignedRestInput",
        "bot.channels.signed.SignedSocketIOInput",
    ]


def test_a_set_up_app_is_on_with_its_secrets_by_reference(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        telegram_token=SecretStr("123:abc"),
        telegram_secret_token=SecretStr("s3cret"),
    )
    path = write_credentials(settings, tmp_path / "c.yml")
    telegram = yaml.safe_load(path.read_text())["bot.channels.telegram.HelpdeskTelegramInput"]
    assert telegram["access_token"] == "${HELPDESK_TELEGRAM_TOKEN}"
    assert telegram["api_url"] == "https://api.telegram.org"
    assert "s3cret" not in path.read_text()
    assert messaging_environment(settings) == {
        "HELPDESK_TELEGRAM_TOKEN": "123:abc",
        "HELPDESK_TELEGRAM_SECRET_TOKEN": "s3cret",
    }


def test_a_half_set_up_app_names_what_is_missing(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, twilio_auth_token=SecretStr("t"), twilio_account_sid="AC1"
    )
    with pytest.raises(ConfigurationError, match="HELPDESK_TWILIO_NUMBER"):
        write_credentials(settings, tmp_path / "c.yml")
