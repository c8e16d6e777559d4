"""A local stand-in for the messaging platforms' servers, the one fake at the edge we cannot
reach: it receives the bot's calls to Telegram's ``sendMessage``, Twilio's ``Messages.json``,
the Graph API's ``me/messages`` and Slack's ``chat.postMessage`` (each answered the way the
platform answers) and records them; told to, it fails the next calls with a 5xx. The
webhooks the platforms would post are built here too, field for field from the platforms'
documentation and signed their way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: The credentials the test stack runs with (core/settings.py's fields).
CREDENTIALS = {
    "telegram_token": "123456789:AAH-stand-in-token-for-tests-only",
    "telegram_secret_token": "telegram-secret-token-1",
    "twilio_account_sid": "AC" + "0" * 32,
    "twilio_auth_token": "twilio-auth-token-1",
    "twilio_number": "whatsapp:+14155238886",
    "messenger_page_token": "messenger-page-token-1",
    "messenger_app_secret": "messenger-app-secret-1",
    "messenger_verify_token": "messenger-verify-1",
    "slack_token": "xoxb-stand-in-1",
    "slack_signing_secret": "slack-signing-secret-1",
}


def api_urls(base_url: str) -> dict[str, str]:
    """The settings that send the bot's calls to the stand-in instead of the platforms."""
    return {
        "telegram_api_url": f"{base_url}/telegram",
        "twilio_api_url": f"{base_url}/twilio",
        "messenger_graph_url": f"{base_url}/graph/v19.0",
        "slack_api_url": f"{base_url}/slack/api/",
    }


#: The platforms by the first part of the stand-in's path.
PLATFORMS = ("telegram", "twilio", "graph", "slack")


@dataclass
class Sent:
    """One call the bot made to a platform's send API."""

    platform: str
    path: str
    body: dict[str, Any]


@dataclass
class StandIn:
    """What the stand-in was sent, and the failures it was told to answer with."""

    sent: list[Sent] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    def fail_next(self, platform: str, count: int) -> None:
        with self.lock:
            self.failures[platform] = count

    def sent_to(self, platform: str) -> list[Sent]:
        with self.lock:
            return [sent for sent in self.sent if sent.platform == platform]

    def _record(self, platform: str, path: str, body: dict[str, Any]) -> bool:
        """Record a call; False when it is to fail."""
        with self.lock:
            if self.failures.get(platform, 0) > 0:
                self.failures[platform] -= 1
                return False
            self.sent.append(Sent(platform, path, body))
            return True


def start_stand_in() -> tuple[StandIn, ThreadingHTTPServer]:
    """The stand-in, serving on a free loopback port in a daemon thread."""
    state = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            url = urlsplit(self.path)
            platform = url.path.strip("/").split("/")[0]
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if "json" in (self.headers.get("Content-Type") or ""):
                body = json.loads(raw or b"{}")
            else:
                body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            body |= {f"query.{k}": v[0] for k, v in parse_qs(url.query).items()}
            if platform not in PLATFORMS:
                self._answer(404, {"error": "unknown platform"})
            elif not state._record(platform, url.path, body):
                self._answer(503, FAILURES[platform])
            else:
                self._answer(201 if platform == "twilio" else 200, answer(platform, body))

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state, server


#: How each platform answers a failure (documented error bodies).
FAILURES: dict[str, dict[str, Any]] = {
    "telegram": {"ok": False, "error_code": 503, "description": "Service Unavailable"},
    "twilio": {"code": 20500, "message": "Internal Server Error", "status": 503},
    "graph": {"error": {"message": "An unknown error has occurred.", "code": 1}},
    "slack": {"ok": False, "error": "service_unavailable"},
}


def answer(platform: str, body: dict[str, Any]) -> dict[str, Any]:
    """The platform's answer to a message sent."""
    now = int(time.time())
    if platform == "telegram":
        chat = {"id": int(body.get("chat_id", 0)), "type": "private"}
        message = {"message_id": now, "date": now, "chat": chat, "text": body.get("text")}
        return {"ok": True, "result": message}
    if platform == "twilio":
        return {"sid": f"SM{now:032d}", "status": "queued", "body": body.get("Body")}
    if platform == "graph":
        return {"recipient_id": body.get("recipient", {}).get("id"), "message_id": f"m_{now}"}
    return {"ok": True, "channel": body.get("channel"), "ts": f"{now}.000100"}


# --- Webhooks the platforms post, signed their way --------------------------------------


def telegram_update(update_id: int, chat_id: int, text: str, *, language: str) -> dict[str, Any]:
    """An Update with a text message from a private chat (core.telegram.org/bots/api#update)."""
    user = {
        "id": chat_id,
        "is_bot": False,
        "first_name": "Maria",
        "last_name": "Papadopoulou",
        "username": "mariap",
        "language_code": language,
    }
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": user,
            "chat": {"id": chat_id, "first_name": "Maria", "type": "private"},
            "date": int(time.time()),
            "text": text,
        },
    }


def telegram_button_press(update_id: int, chat_id: int, data: str) -> dict[str, Any]:
    """An Update with a callback query: an inline keyboard button pressed."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Maria", "language_code": "el"}
    message = {
        "message_id": 1,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private"},
    }
    callback = {
        "id": str(update_id),
        "from": user,
        "message": message,
        "chat_instance": "-5010",
        "data": data,
    }
    return {"update_id": update_id, "callback_query": callback}


def twilio_form(message_sid: str, sender: str, text: str, to: str) -> dict[str, str]:
    """The form Twilio posts for an incoming WhatsApp message
    (twilio.com/docs/messaging/guides/webhook-request)."""
    return {
        "MessageSid": message_sid,
        "SmsSid": message_sid,
        "AccountSid": "AC" + "0" * 32,
        "MessagingServiceSid": "",
        "From": sender,
        "To": to,
        "Body": text,
        "NumMedia": "0",
        "ProfileName": "Joana",
        "WaId": sender.removeprefix("whatsapp:+"),
        "SmsStatus": "received",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }


def twilio_signature(auth_token: str, url: str, form: dict[str, str]) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 of the URL and the sorted fields appended."""
    signed = url + "".join(f"{name}{form[name]}" for name in sorted(form))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def messenger_event(
    psid: str, mid: str, text: str, *, quick_reply: str | None = None
) -> dict[str, Any]:
    """A page webhook with one messages event
    (developers.facebook.com/docs/messenger-platform/webhooks)."""
    message: dict[str, Any] = {"mid": mid, "text": text}
    if quick_reply is not None:
        message["quick_reply"] = {"payload": quick_reply}
    event = {
        "sender": {"id": psid},
        "recipient": {"id": "106000000000001"},
        "timestamp": int(time.time() * 1000),
        "message": message,
    }
    return {
        "object": "page",
        "entry": [{"id": "106000000000001", "time": event["timestamp"], "messaging": [event]}],
    }


def messenger_signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def slack_event(event_id: str, user: str, text: str, *, channel: str) -> dict[str, Any]:
    """An Events API callback with a direct message to the app (api.slack.com/events/message.im)."""
    now = time.time()
    return {
        "token": "verification-token-unused",
        "team_id": "T0001",
        "api_app_id": "A0001",
        "event": {
            "type": "message",
            "channel_type": "im",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": f"{now:.6f}",
            "event_ts": f"{now:.6f}",
        },
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(now),
        "authorizations": [{"user_id": "UBOT", "is_bot": True}],
    }


def slack_headers(signing_secret: str, body: bytes, *, at: float | None = None) -> dict[str, str]:
    """X-Slack-Signature: v0= HMAC-SHA256 of "v0:<timestamp>:<body>"."""
    timestamp = str(int(at if at is not None else time.time()))
    base = b"v0:" + timestamp.encode() + b":" + body
    signature = "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }
