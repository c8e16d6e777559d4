"""HAProxy (Debian's package) in front of the replicas of `helpdesk run --replicas N`.

It listens on the ports one process would (HELPDESK_RASA_PORT, _ACTION_PORT, _API_PORT) and
spreads the work over the replicas behind them, on the next ports up. Everything calls
everything else through it (Rasa its action servers, the API its Rasa servers), so a replica
that dies is taken out by its health check and the others carry on. socket.io's long-polling
needs every request of a session on one server: those requests go by the client's address
(the widget tries a websocket first, which needs no such care).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigurationError
from helpdesk.supervisor import ManagedProcess

HAPROXY = "haproxy"
#: How long a request may take before the balancer answers 504. Also the lifetime of Rasa's
#: per-conversation lock (helpdesk/stack.py): a turn that outlasts it has failed for its
#: customer anyway, and the locks of a replica that died free up by the time the customer
#: sends again (Rasa's default, 60 s, held such conversations up for two timeouts).
TURN_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Service:
    """One service behind the balancer: its public port and its replicas' ports."""

    name: str
    port: int
    health_path: str
    replica_ports: list[int]


def replica_ports(port: int, replicas: int) -> list[int]:
    """The ports of a service's replicas: the ones above its public port."""
    return [port + index for index in range(1, replicas + 1)]


def haproxy_config(host: str, services: list[Service]) -> str:
    """The configuration: a frontend per service, round robin over healthy replicas; a
    request that could not reach its replica is tried on another (``retry-on``, with
    ``redispatch``). A request its replica died with gets 502: the customer's client sends
    it again, which is safe (messages carry their id and are handled once, tickets are made
    once per conversation)."""
    lines = [
        "global",
        "    maxconn 4096",
        "    log stdout format raw local0",
        "defaults",
        "    mode http",
        "    log global",
        "    option httplog",
        # The client's address for the API's per-address limits (uvicorn trusts it from
        # loopback only, where the balancer is).
        "    option forwardfor",
        "    timeout connect 2s",
        "    timeout client 120s",
        f"    timeout server {TURN_TIMEOUT_SECONDS}s",
        "    timeout tunnel 1h",  # websockets
        "    option redispatch",
        "    retries 3",
        "    retry-on conn-failure empty-response 503",
        "    default-server inter 1s fall 2 rise 2",
    ]
    for service in services:
        lines += [
            f"frontend {service.name}",
            f"    bind {host}:{service.port}",
            "    monitor-uri /balancer-health",
        ]
        if service.name == "rasa":
            lines += [
                "    acl socketio path_beg /socket.io/",
                "    use_backend rasa_socketio if socketio",
            ]
        lines += [f"    default_backend {service.name}"]
        lines += _backend(service.name, "roundrobin", service, host)
        if service.name == "rasa":
            lines += _backend("rasa_socketio", "source", service, host)
    return "\n".join(lines) + "\n"


def _backend(name: str, balance: str, service: Service, host: str) -> list[str]:
    lines = [
        f"backend {name}",
        f"    balance {balance}",
        f"    option httpchk GET {service.health_path}",
    ]
    if balance == "source":
        lines.append("    hash-type consistent")
    lines += [
        f"    server {service.name}{index} {host}:{port} check"
        for index, port in enumerate(service.replica_ports, start=1)
    ]
    return lines


def haproxy_process(config_path: Path, config: str, *, host: str, port: int) -> ManagedProcess:
    """HAProxy in the foreground with ``config`` (written to ``config_path``)."""
    executable = shutil.which(HAPROXY) or f"/usr/sbin/{HAPROXY}"
    if not Path(executable).exists():
        raise ConfigurationError("HAProxy is not installed: apt-get install haproxy")
    config_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    config_path.write_text(config, encoding="utf-8")
    return ManagedProcess(
        name="load balancer",
        command=[executable, "-db", "-f", str(config_path)],
        health_url=f"http://{host}:{port}/balancer-health",  # its own monitor-uri
        log_path=config_path.parent / "logs" / "haproxy.log",
    )
