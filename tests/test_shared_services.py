"""The settings of the shared parts (tracker store, Redis) become Rasa's endpoints.yml, with
no secret in the file; replicas refuse settings they cannot share."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from core.errors import ConfigurationError
from core.settings import Settings
from helpdesk.balancer import Service, haproxy_config
from helpdesk.rasa_project import (
    rasa_environment,
    shared_services_environment,
    write_endpoints,
)
from helpdesk.stack import build_stack


def endpoints(settings: Settings, tmp_path: Path) -> dict[str, dict[str, object]]:
    path = write_endpoints(settings, tmp_path / "endpoints.yml")
    loaded: dict[str, dict[str, object]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def test_embedded_defaults_are_sqlite_and_no_lock_store(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    written = endpoints(settings, tmp_path)
    assert written["tracker_store"] == {
        "type": "SQL",
        "dialect": "sqlite",
        "db": str((tmp_path / "tracker.db").resolve()),
    }
    assert "lock_store" not in written
    assert shared_services_environment(settings) == {}


def test_postgresql_and_redis_urls_become_rasa_endpoints_without_their_passwords(
    tmp_path: Path,
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        tracker_store_url="postgresql://rasa:pg-secret@db.internal:6432/conversations",
        redis_url="rediss://:redis-secret@cache.internal:6380/2",
    )
    written = endpoints(settings, tmp_path)
    assert written["tracker_store"] == {
        "type": "SQL",
        "dialect": "postgresql",
        "url": "db.internal",
        "port": 6432,
        "db": "conversations",
        "username": "rasa",
        "password": "${HELPDESK_TRACKER_STORE_PASSWORD}",
    }
    assert written["lock_store"] == {
        "type": "redis",
        "url": "cache.internal",
        "port": 6380,
        "db": 2,
        "key_prefix": "helpdesk",
        "use_ssl": True,
        "password": "${HELPDESK_REDIS_PASSWORD}",
    }
    text = (tmp_path / "endpoints.yml").read_text(encoding="utf-8")
    assert "pg-secret" not in text and "redis-secret" not in text
    assert shared_services_environment(settings) == {
        "HELPDESK_TRACKER_STORE_PASSWORD": "pg-secret",
        "HELPDESK_REDIS_URL": "rediss://:redis-secret@cache.internal:6380/2",
        "HELPDESK_REDIS_PASSWORD": "redis-secret",
    }


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("redis_url", "http://cache.internal", "HELPDESK_REDIS_URL"),
        ("redis_url", "redis://cache.internal/zero", "HELPDESK_REDIS_URL"),
        ("redis_url", "redis://cache.internal:port", "HELPDESK_REDIS_URL"),
        ("tracker_store_url", "mysql://db.internal/rasa", "HELPDESK_TRACKER_STORE_URL"),
        ("tracker_store_url", "not a url", "HELPDESK_TRACKER_STORE_URL"),
    ],
)
def test_a_url_rasa_cannot_use_is_refused_by_name(
    tmp_path: Path, field: str, value: str, named: str
) -> None:
    settings = Settings.model_validate({"data_dir": tmp_path, field: value})
    with pytest.raises(ConfigurationError, match=named):
        write_endpoints(settings, tmp_path / "endpoints.yml")


def test_replicas_without_redis_are_refused_before_anything_starts(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, rasa_api_token=SecretStr("t"))
    with pytest.raises(ConfigurationError, match="HELPDESK_REDIS_URL"):
        build_stack(settings, tmp_path / "model.tar.gz", replicas=2)


def test_replicas_run_on_the_ports_above_behind_one_balancer(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        rasa_api_token=SecretStr("t"),
        redis_url="redis://127.0.0.1:6379/0",
        rasa_port=7000,
        action_port=7100,
        api_port=7200,
    )
    processes = build_stack(settings, tmp_path / "model.tar.gz", replicas=2)
    assert [p.name for p in processes] == [
        "load balancer",
        "action server 1",
        "action server 2",
        "Rasa server 1",
        "Rasa server 2",
        "API 1",
        "API 2",
    ]
    assert processes[4].command[-1] == "7002" and processes[6].command[-1] == "7202"
    config = (tmp_path / "haproxy.cfg").read_text(encoding="utf-8")
    assert "bind 127.0.0.1:7000" in config and "server rasa2 127.0.0.1:7002 check" in config
    assert "server actions1 127.0.0.1:7101 check" in config


def test_socketio_polling_sticks_to_one_rasa_replica() -> None:
    config = haproxy_config("127.0.0.1", [Service("rasa", 5005, "/", [5006, 5007])])
    socketio = config.split("\nbackend rasa_socketio\n")[1]
    assert "use_backend rasa_socketio if socketio" in config
    assert "balance source" in socketio and "server rasa2 127.0.0.1:5007" in socketio


def test_a_served_rasa_gets_one_tensorflow_thread_and_training_keeps_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TF_INTRA_OP_PARALLELISM_THREADS", raising=False)
    monkeypatch.delenv("TF_INTER_OP_PARALLELISM_THREADS", raising=False)
    settings = Settings(data_dir=tmp_path, rasa_api_token=SecretStr("t"))
    rasa = next(p for p in build_stack(settings, tmp_path / "m.tar.gz") if p.name == "Rasa server")
    assert rasa.env is not None
    assert rasa.env["TF_INTRA_OP_PARALLELISM_THREADS"] == "1"
    assert rasa.env["TF_INTER_OP_PARALLELISM_THREADS"] == "1"
    assert "TF_INTRA_OP_PARALLELISM_THREADS" not in rasa_environment()  # training
    monkeypatch.setenv("TF_INTRA_OP_PARALLELISM_THREADS", "4")  # an operator's choice stands
    assert rasa_environment(serving=True)["TF_INTRA_OP_PARALLELISM_THREADS"] == "4"
