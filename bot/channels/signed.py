"""Rasa's REST and socket.io channels, taking only signed conversation ids (core/identity.py)
and at most so many messages a minute.

The stock channels let the client name the conversation: a REST ``sender`` or a socket.io
``session_id`` of its choosing, so "me" or a guessed id read and wrote someone else's
conversation (the agent's replies included). Here a REST message needs a signed ``sender``
(else 403), and a socket.io session is given a signed id by the server unless it brings one;
a message for an unsigned id is dropped. A conversation may send 30 messages a minute (REST:
429 with Retry-After; socket.io: the extra messages are dropped), counted in pyrate-limiter's
sliding-window buckets: in this process's memory, or in Redis when the Rasa replicas share one
(HELPDESK_REDIS_URL), so that N replicas allow no more than one. Limited per conversation,
not per address: behind a site's proxy every customer has one address, and ids are the scarce
resource (the API issues 30 a minute per address). Subclassed
rather than rewritten: everything else (streaming, metadata, rooms, output) stays Rasa's.

Runs in the Rasa environment (Python 3.10); the secret comes from HELPDESK_CONVERSATION_SECRET.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from pyrate_limiter import Duration, InMemoryBucket, Rate, RateItem, RedisBucket
from pyrate_limiter.buckets.redis_bucket import LuaScript
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sanic import Blueprint, response
from sanic.exceptions import Forbidden, SanicException
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from core.identity import SECRET_ENV, is_signed, new_conversation_id

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

#: The token of Rasa's HTTP API, given to our Rasa server by helpdesk/stack.py.
API_TOKEN_ENV = "HELPDESK_RASA_API_TOKEN"
#: Messages a minute per conversation: a person types fewer.
PER_CONVERSATION = Rate(30, Duration.MINUTE)
#: Buckets kept before the idle ones are let go.
PRUNE_ABOVE = 10_000


class KeyedRateLimit:
    """One sliding-window bucket (pyrate-limiter's) per key in this process, idle ones pruned."""

    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self._buckets: dict[str, InMemoryBucket] = {}

    async def allows(self, key: str) -> bool:
        now = int(time.time() * 1000)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= PRUNE_ABOVE:
                self._prune(now)
            bucket = self._buckets[key] = InMemoryBucket([self.rate])
        bucket.leak(now)
        return bool(bucket.put(RateItem(key, now)))

    def _prune(self, now: int) -> None:
        for key, bucket in list(self._buckets.items()):
            bucket.leak(now)
            if bucket.count() == 0:
                del self._buckets[key]


class RedisKeyedRateLimit:
    """The same sliding window per key, kept in Redis (pyrate-limiter's RedisBucket): every
    Rasa replica counts the same messages, so N replicas do not allow N times the rate."""

    PREFIX = "helpdesk:rate:"

    def __init__(self, rate: Rate, url: str) -> None:
        self.rate = rate
        self._redis = Redis.from_url(url)
        self._script: str | None = None

    async def allows(self, key: str) -> bool:
        """Whether one more message of ``key`` is within the rate. Redis away: allowed (the
        customer is not cut off; the limit is back with Redis)."""
        now = int(time.time() * 1000)
        bucket_key = self.PREFIX + key
        try:
            if self._script is None:
                self._script = await self._redis.script_load(LuaScript.PUT_ITEM)
            bucket = RedisBucket([self.rate], self._redis, bucket_key, self._script)
            await bucket.leak(now)
            # A name of our own per message: pyrate-limiter's random suffix comes from the
            # ``random`` module, which Rasa seeds alike in every replica, so the replicas'
            # messages had the same names and counted once in the sorted set.
            allowed = bool(await bucket.put(RateItem(uuid.uuid4().hex, now)))
            await self._redis.expire(bucket_key, self.rate.interval // 1000 + 1)
        except RedisError as error:
            logger.warning("rate limit not checked (Redis): %s", error)
            return True
        return allowed


def rate_limit(rate: Rate) -> KeyedRateLimit | RedisKeyedRateLimit:
    """Counted in Redis when the replicas share one (HELPDESK_REDIS_URL), else in memory."""
    url = os.environ.get(REDIS_URL_ENV)
    return RedisKeyedRateLimit(rate, url) if url else KeyedRateLimit(rate)


class TooManyMessages(SanicException):
    """A client over its rate: answered 429 with Retry-After by the channel's handler
    (Sanic 21.12's JSON error page would drop the header)."""

    status_code = 429
    quiet = True

    def __init__(self, rate: Rate) -> None:
        super().__init__(f"Too many messages: at most {rate.limit} a minute. Try again later.")
        self.retry_after = rate.interval // 1000


async def too_many_messages(request: Request, error: Exception) -> HTTPResponse:
    assert isinstance(error, TooManyMessages)
    headers = {"Retry-After": str(error.retry_after)}
    return response.json({"message": str(error)}, status=429, headers=headers)


def conversation_secret() -> str:
    """The secret every process shares; the server does not start without one."""
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        raise RuntimeError(f"{SECRET_ENV} is not set: `helpdesk run` sets it for its Rasa server")
    return secret


class SignedRestInput(RestInput):
    """`POST /webhooks/rest/webhook` with a signed ``sender`` only (403 otherwise), within
    the rate limits (429 otherwise)."""

    per_conversation: KeyedRateLimit | RedisKeyedRateLimit = KeyedRateLimit(PER_CONVERSATION)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        self.per_conversation = rate_limit(PER_CONVERSATION)
        blueprint = super().blueprint(on_new_message)
        blueprint.exception(TooManyMessages)(too_many_messages)
        return blueprint

    async def _extract_sender(self, req: Request) -> str | None:
        sender = (req.json or {}).get("sender") if isinstance(req.json, dict) else None
        if not is_signed(sender, conversation_secret()):
            raise Forbidden(
                "'sender' must be a signed conversation id: get one from the helpdesk API "
                "(POST /api/conversations), or sign your own user id with the site secret"
            )
        if not await self.per_conversation.allows(str(sender)):
            raise TooManyMessages(PER_CONVERSATION)
        return str(sender)


class SignedSocketIOInput(SocketIOInput):
    """The widget's channel: the server issues the conversation id; a session joins only
    the room of an id it can show the signature of."""

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        secret = conversation_secret()
        per_conversation = rate_limit(PER_CONVERSATION)

        async def signed_only(message: UserMessage) -> None:
            if not is_signed(message.sender_id, secret):
                logger.warning("socket.io message for an unsigned conversation id dropped")
            elif not await per_conversation.allows(message.sender_id):
                logger.warning("socket.io message over the rate limit dropped")
            else:
                await on_new_message(message)

        blueprint = super().blueprint(signed_only)
        sio = self.sio
        redis_url = os.environ.get(REDIS_URL_ENV)
        if redis_url:
            share_rooms_through_redis(sio, redis_url)
        shared_presence = RedisPresence(redis_url) if redis_url else None
        namespace = self.namespace or "/"

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: dict[str, Any] | None) -> None:
            """Replaces Rasa's, which joined any room the client named."""
            requested = (data or {}).get("session_id")
            session_id = requested if is_signed(requested, secret) else new_conversation_id(secret)
            sio.enter_room(sid, session_id)
            if shared_presence is not None:
                await shared_presence.joined(session_id, sid)
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: str) -> None:
            if shared_presence is not None:
                for room in sio.rooms(sid, namespace=namespace):
                    if room != sid:
                        await shared_presence.left(room, sid)

        @blueprint.route("/presence", methods=["GET"])
        async def presence(request: Request) -> HTTPResponse:
            """`GET /webhooks/socketio/presence?conversation=…&token=…`: whether a widget is
            connected to the conversation (on any replica when Redis is shared), so the helpdesk
            knows whether an update will be read now or must also go by e-mail. Rasa's API
            token required."""
            if not api_token_matches(request.args.get("token")):
                raise Forbidden("a valid token is required (Rasa's --auth-token)")
            room = request.args.get("conversation") or ""
            if shared_presence is not None:
                return response.json({"connected": await shared_presence.connected(room)})
            participants = sio.manager.get_participants(namespace, room)
            return response.json({"connected": next(iter(participants), None) is not None})

        return blueprint


#: Set by helpdesk/stack.py from HELPDESK_REDIS_URL when the Rasa server has replicas.
REDIS_URL_ENV = "HELPDESK_REDIS_URL"


def share_rooms_through_redis(sio: AsyncServer, url: str) -> None:
    """Emits go through Redis (python-socketio's AsyncRedisManager), so that a reply
    triggered on any Rasa replica reaches the widget's room on the replica its socket is
    connected to. Set before the first connection, when the server starts its manager; Rasa
    builds the server itself, so the manager is swapped in rather than given."""
    sio.manager = AsyncRedisManager(url, channel="helpdesk-socketio")
    sio.manager.set_server(sio)
    logger.info("socket.io rooms shared through Redis")


class RedisPresence:
    """Which conversations have a widget connected to any replica: a Redis set per
    conversation of ``server:socket`` members. A member counts while its server's heartbeat
    key lives, so a replica that was killed stops counting within HEARTBEAT_SECONDS × 3."""

    HEARTBEAT_SECONDS = 10
    KEEP_SECONDS = 24 * 3600  # a conversation's set outlives no idle day

    def __init__(self, url: str) -> None:
        self._redis = Redis.from_url(url)
        self._server = uuid.uuid4().hex
        self._heartbeat: asyncio.Task[None] | None = None

    async def joined(self, conversation: str, sid: str) -> None:
        """A widget joined: never fails the session (Redis away: presence says "away", and
        the customer gets an e-mail too many rather than a widget that does not start)."""
        try:
            if self._heartbeat is None:
                await self._beat_once()
                self._heartbeat = asyncio.create_task(self._beat())
            key = self._key(conversation)
            await self._redis.sadd(key, f"{self._server}:{sid}")
            await self._redis.expire(key, self.KEEP_SECONDS)
        except RedisError as error:
            logger.warning("presence not recorded: %s", error)

    async def left(self, conversation: str, sid: str) -> None:
        try:
            await self._redis.srem(self._key(conversation), f"{self._server}:{sid}")
        except RedisError as error:  # its server's heartbeat still ends it
            logger.warning("presence not cleared: %s", error)

    async def connected(self, conversation: str) -> bool:
        members = await self._redis.smembers(self._key(conversation))
        servers = {member.decode().split(":", 1)[0] for member in members}
        return any([await self._redis.exists(f"helpdesk:server:{server}") for server in servers])

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.HEARTBEAT_SECONDS)
            try:
                await self._beat_once()
            except RedisError as error:  # back next time; meanwhile presence may say "away"
                logger.warning("presence heartbeat failed: %s", error)

    async def _beat_once(self) -> None:
        key = f"helpdesk:server:{self._server}"
        await self._redis.set(key, 1, ex=self.HEARTBEAT_SECONDS * 3)

    @staticmethod
    def _key(conversation: str) -> str:
        return f"helpdesk:presence:{conversation}"


def api_token_matches(given: str | None) -> bool:
    """Whether ``given`` is the token of Rasa's HTTP API (HELPDESK_RASA_API_TOKEN)."""
    expected = os.environ.get(API_TOKEN_ENV, "")
    return bool(expected and given) and hmac.compare_digest(str(given), expected)
