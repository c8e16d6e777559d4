"""Start Rasa (train, run) with our small, reproducible patches applied first.

Runs in the Rasa 3.6 environment: ``.venv-rasa/bin/python -m bot.launcher run ...`` takes
exactly the arguments of the ``rasa`` command.

Patch: Rasa validates every action-server response against a JSON schema with
``jsonschema.validate``, which re-checks the schema itself and rebuilds a validator on every
call: a quarter of the Rasa server's CPU per message here (py-spy). We validate against the
same schema with validators built once, each event against its own type's part of the schema
(bot/action_results.py); invalid responses are still rejected the same way.

Patch: when the action server cannot be reached (it is restarting) or fails, Rasa logs the
error, drops the action's events and says nothing: a customer got silence. Here the call is
tried again a few times (another replica takes it, or the restarted server), and then the
customer is told "one moment" (``utter_one_moment``, in the conversation's language). Not
for ``action_deliver``: the delivery worker triggered it and tries again on its own.

Patch: each customer message is handled once by its ``metadata.message_id`` (a messaging
app's retry of a webhook, a REST client sending again: it gets the first answer again), and
a bare number after buttons picks that button (bot/turns.py): checked on the conversation
Rasa has loaded under its lock.

Patch: a typed message within the length limit is sent to the action server's
``/embed-ahead`` before Rasa even loads the conversation, so the embedding of an FAQ question
(one core, ~18 ms) overlaps the tracker load, the NLU, the first action and the policies
instead of following them. The conversation is not known yet (a person may own it, the
message may be small talk): the action server makes that guess only while its model is
idle, so a wrong one costs an otherwise idle core. Rasa goes on as soon as the request is
written (aiohttp's request-chunk signal), not when it is answered (p50 1.4 → 0.65 ms).

Patch: a session grown past bot/turns.py's SESSION_EVENT_LIMIT events ends at the next turn
(as after an idle hour), and a new session carries over each slot's latest value only.

Patch: Rasa's RedisLockStore changes a conversation's tickets by reading, changing and
writing them back. Two replicas taking a ticket at the same moment both got the first one and
ran the same conversation at once, and one turn's events were lost (tests/e2e/test_replicas.py
caught it in CI). Each change (issue, expiry, clean-up) now holds a short Redis lock on the
conversation (redis-py's ``Lock``, SET NX with a timeout) while it reads and writes.

Patch: Rasa finds the class of each event it reads from the tracker store by walking every
subclass of ``Event`` (``all_subclasses``, recursive, for each event): 7 % of the Rasa
server's CPU per turn here (py-spy). The class found for a type name is kept.

Patch: Rasa's SQL tracker store on SQLite opened a new connection for every read and write
(SQLAlchemy 1.4's NullPool for files) and committed in rollback-journal mode (three disk
syncs). Its connections are now kept (QueuePool; Rasa uses them from its one event-loop
thread) and the file is in write-ahead-log mode, as the ticket database is: one sync per
commit, still durable, and readers do not wait for the writer.

Patch: Rasa's SQL tracker store read each event as an ORM object and wrote each one through
the ORM's unit of work (≈ 10 objects a FAQ turn). It now reads the ``data`` column only and
inserts a turn's events in one statement: the same rows, the same conversation read back
(tests/bot/test_tracker_rows.py), load 3.8 → 2.3 ms and save 2.6 → 1.5 ms for a 10-turn session.

Patch: Rasa opened a new aiohttp session, so a new TCP connection, for every request to an
endpoint: twice a FAQ turn to the action server (the head start and the action), ≈ 1 ms each
on loopback. Each endpoint now keeps one session per event loop, its connections kept alive
for less time than the servers' own keep-alive (Sanic's 5 s), so a connection taken from the
pool is never one the server has just closed.

Patch: DIET's prediction step is traced once (a ``tf.function`` with a fixed signature) and
was then called through TensorFlow's generic dispatch, which matches every call's inputs
against the signature again: ≈ 0.7 ms of a 7 ms NLU parse. It is now called as the one
concrete function that signature traces, its inputs converted to the signature's types:
the same graph, the same outputs (tests/bot/test_traced_prediction.py).

Also: ``rasa run`` gets its HTTP API token from HELPDESK_RASA_API_TOKEN, if set.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any


def _cache_action_response_validator() -> None:
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    from bot.action_results import ActionResultValidator

    validator: ActionResultValidator | None = None

    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        nonlocal validator
        if validator is None:
            validator = ActionResultValidator(self.action_response_format_spec())
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
#: Seconds before each new try of a failed action call: an action server that died during
#: the call is replaced by another replica (the balancer's health check takes about 2 s) or
#: by its own restart. Our actions may run twice (tickets are made once per conversation,
#: outcomes recorded once per turn).
ACTION_RETRY_DELAYS = (0.5, 1.0, 2.0)


def _look_up_event_types_once() -> None:
    from rasa.shared.core.events import Event

    walk = Event.resolve_by_type
    found: dict[str, type[Event]] = {}

    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        if type_name in found:
            return found[type_name]
        resolved = walk(type_name, default)
        if resolved is not None and resolved is not default:
            found[type_name] = resolved
        return resolved

    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]


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
        for delay in ACTION_RETRY_DELAYS:
            try:
                return await run(self, output_channel, nlg, tracker, domain)
            except ActionExecutionRejection:
                raise
            except RasaException as error:
                if self.name() in SILENT_WHEN_AWAY:
                    raise
                # another replica takes the next try, or this one is back from a restart
                logger.warning("action %s failed, trying again: %s", self.name(), error)
                await asyncio.sleep(delay)
        try:
            return await run(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except RasaException as error:
            logger.error("action %s failed, the customer is asked to wait: %s", self.name(), error)
            message = await nlg.generate(ONE_MOMENT_RESPONSE, tracker, output_channel.name())
            said = [create_bot_utterance(message)] if message else []
            # Once, and the turn ends: the rest of it would fail the same way.
            return [*said, FollowupAction(ACTION_LISTEN_NAME)]

    RemoteAction.run = run_or_say_one_moment  # type: ignore[method-assign]


#: How long the action server has to take a message to embed ahead: it answers in about a
#: millisecond; past this the head start would be worth little, and the request is dropped.
EMBED_AHEAD_WAIT_SECONDS = 0.2
#: Embed-ahead requests sent and not yet answered (a task nobody holds may be collected).
_EMBEDS_IN_FLIGHT: set[asyncio.Future[None]] = set()


async def embed_ahead(action_endpoint: Any, text: str) -> None:
    """Ask the action server to start embedding ``text`` (POST /embed-ahead): the vector, a
    turn's largest cost, is then ready when the FAQ search runs. Returns once the request is
    written to the connection, not when it is answered: Rasa's NLU next holds the event loop,
    and a request left to start later would only be sent after it, but its "202 Accepted" is
    read while the turn waits for its action anyway. Only a head start: an action server
    that is away or slow (EMBED_AHEAD_WAIT_SECONDS) is not waited for, and the search embeds
    the message itself."""
    written = asyncio.Event()
    request = asyncio.ensure_future(_post_embed_ahead(action_endpoint, text, written))
    _EMBEDS_IN_FLIGHT.add(request)
    request.add_done_callback(_EMBEDS_IN_FLIGHT.discard)
    writing = asyncio.ensure_future(written.wait())
    await asyncio.wait(
        {writing, request}, timeout=EMBED_AHEAD_WAIT_SECONDS, return_when=asyncio.FIRST_COMPLETED
    )
    writing.cancel()


async def _post_embed_ahead(action_endpoint: Any, text: str, written: asyncio.Event) -> None:
    """The request itself; ``written`` is set as its body goes out (see _body_written)."""
    import aiohttp
    from rasa.utils.endpoints import EndpointConfig

    url = str(action_endpoint.url or "")
    base = url[: -len("/webhook")] if url.endswith("/webhook") else url
    try:
        await EndpointConfig(base, headers=action_endpoint.headers).request(
            "post",
            subpath="embed-ahead",
            json={"text": text},
            timeout=aiohttp.ClientTimeout(total=EMBED_AHEAD_WAIT_SECONDS),
            trace_request_ctx=written,
        )
    except Exception:
        return None


async def _body_written(_session: Any, context: Any, _params: Any) -> None:
    """aiohttp's signal for a chunk of a request body, sent just before that chunk is written
    in the same step: whoever waits for the event resumes once it is on the connection."""
    if isinstance(context.trace_request_ctx, asyncio.Event):
        context.trace_request_ctx.set()


class _AlreadyHandled(Exception):
    """The message is a retry of one the conversation holds: nothing to add."""

    def __init__(self, replies: list[dict[str, Any]]) -> None:
        super().__init__("already handled")
        self.replies = replies


def _handle_each_message_once_and_numbers_as_buttons() -> None:
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.turns import chosen_button, replies_to
    from core.limits import typed_within_limit

    handle_message = MessageProcessor.handle_message
    handle_with_tracker = MessageProcessor._handle_message_with_tracker

    async def handle_once(self: MessageProcessor, message: UserMessage) -> Any:
        if self.action_endpoint is not None and typed_within_limit(message.text):
            await embed_ahead(self.action_endpoint, message.text or "")
        try:
            return await handle_message(self, message)
        except _AlreadyHandled as handled:
            channel = message.output_channel
            if not isinstance(channel, CollectingOutputChannel):
                return None  # its answers went out already, by their own calls
            for reply in handled.replies:  # the REST client lost the response: say it again
                await channel.send_response(message.sender_id, reply)
            return channel.messages

    async def handle_with_conversation(
        self: MessageProcessor, message: UserMessage, tracker: DialogueStateTracker
    ) -> None:
        replies = replies_to(tracker.events, (message.metadata or {}).get("message_id"))
        if replies is not None:
            raise _AlreadyHandled(replies)  # before anything is added: the tracker is not saved
        message.text = chosen_button(tracker.events, message.text or "") or message.text
        await handle_with_tracker(self, message, tracker)

    MessageProcessor.handle_message = handle_once  # type: ignore[method-assign]
    MessageProcessor._handle_message_with_tracker = handle_with_conversation  # type: ignore[method-assign]


def _bound_the_session_length() -> None:
    from rasa.core.actions.action import ActionSessionStart
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.turns import latest_per_key, session_is_long

    has_expired = MessageProcessor._has_session_expired

    def expired_or_long(self: MessageProcessor, tracker: DialogueStateTracker) -> bool:
        in_handoff = bool(tracker.slots.get("handoff") and tracker.slots["handoff"].value)
        long = session_is_long(len(tracker.events), in_handoff=in_handoff)
        return long or has_expired(self, tracker)

    def carried_over(tracker: DialogueStateTracker) -> list[SlotSet]:
        slot_events = [e for e in tracker.applied_events() if isinstance(e, SlotSet)]
        return [SlotSet(e.key, e.value, metadata=e.metadata) for e in latest_per_key(slot_events)]

    MessageProcessor._has_session_expired = expired_or_long  # type: ignore[method-assign]
    ActionSessionStart._slot_set_events_from_tracker = staticmethod(carried_over)  # type: ignore[method-assign,assignment]


#: Longest a conversation's ticket change may hold its guard (it takes milliseconds).
TICKET_GUARD_SECONDS = 10


def _change_redis_tickets_atomically() -> None:
    from rasa.core.lock_store import LockStore, RedisLockStore

    def guarded(change: Any) -> Any:
        def under_guard(
            self: RedisLockStore, conversation_id: str, *args: Any, **kwargs: Any
        ) -> Any:
            guard = self.red.lock(
                f"{self.key_prefix}{conversation_id}:guard",
                timeout=TICKET_GUARD_SECONDS,
                blocking_timeout=TICKET_GUARD_SECONDS,
            )
            with guard:
                return change(self, conversation_id, *args, **kwargs)

        return under_guard

    RedisLockStore.issue_ticket = guarded(LockStore.issue_ticket)  # type: ignore[method-assign]
    RedisLockStore.update_lock = guarded(LockStore.update_lock)  # type: ignore[method-assign]
    RedisLockStore.cleanup = guarded(LockStore.cleanup)  # type: ignore[method-assign]


def _keep_sqlite_tracker_connections() -> None:
    import sqlite3

    from rasa.core import tracker_store
    from sqlalchemy import event
    from sqlalchemy.engine import Engine, make_url
    from sqlalchemy.pool import QueuePool

    kwargs_for = tracker_store.create_engine_kwargs

    def engine_kwargs(url: Any) -> dict[str, Any]:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            return {"poolclass": QueuePool}
        return kwargs_for(url)

    def write_ahead_log(connection: Any, _record: Any) -> None:
        if isinstance(connection, sqlite3.Connection):
            connection.execute("PRAGMA journal_mode=WAL")

    tracker_store.create_engine_kwargs = engine_kwargs
    event.listen(Engine, "connect", write_ahead_log)


def _read_and_write_tracker_events_as_rows() -> None:
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    async def retrieve(
        self: SQLTrackerStore, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions)
            events = [json.loads(data) for (data,) in query.with_entities(self.SQLEvent.data)]
        if not self.domain or not events:
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    async def save(self: SQLTrackerStore, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = [
                _event_row(tracker.sender_id, event)
                for event in self._additional_events(session, tracker)
            ]
            if rows:
                session.execute(sa.insert(self.SQLEvent.__table__), rows)
            session.commit()

    SQLTrackerStore._retrieve = retrieve  # type: ignore[method-assign]
    SQLTrackerStore.save = save  # type: ignore[method-assign]


def _event_row(sender_id: str, event: Any) -> dict[str, Any]:
    """The row Rasa's SQL tracker store writes for ``event``."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


#: Seconds an idle connection to an endpoint is kept: under Sanic's keep-alive timeout (5 s).
ENDPOINT_KEEPALIVE_SECONDS = 2.0


def _body_written_trace() -> Any:
    import aiohttp

    trace = aiohttp.TraceConfig()
    trace.on_request_chunk_sent.append(_body_written)
    return trace


def _reuse_endpoint_connections() -> None:
    from contextlib import nullcontext

    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    kept: dict[tuple[Any, ...], aiohttp.ClientSession] = {}

    def session(self: EndpointConfig) -> nullcontext[aiohttp.ClientSession]:
        """The endpoint's kept session; ``async with`` it (as Rasa does) leaves it open."""
        auth = self.basic_auth or {}
        key = (
            id(asyncio.get_running_loop()),
            tuple(sorted(self.headers.items())),
            auth.get("username"),
            auth.get("password"),
        )
        client = kept.get(key)
        if client is None or client.closed:
            client = kept[key] = aiohttp.ClientSession(
                headers=self.headers,
                auth=aiohttp.BasicAuth(auth["username"], auth["password"]) if auth else None,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=ENDPOINT_KEEPALIVE_SECONDS),
                trace_configs=[_body_written_trace()],
            )
        return nullcontext(client)

    EndpointConfig.session = session  # type: ignore[assignment]


def _call_the_traced_prediction_directly() -> None:
    from rasa.utils.tensorflow.models import RasaModel

    generic = RasaModel._rasa_predict

    def rasa_predict(self: RasaModel, batch_in: Any) -> Any:
        # Rasa traces its own tf.function on the first call when none is set; ours goes first.
        if self._tf_predict_step is None and not self._run_eagerly:
            self._tf_predict_step = _ConcreteCall(self)
        return generic(self, batch_in)

    RasaModel._rasa_predict = rasa_predict  # type: ignore[method-assign]


class _ConcreteCall:
    """A model's predict step as the one concrete function its input signature traces (the
    signature Rasa itself builds from the first batch), called with inputs of its types."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self._function: Any = None
        self._dtypes: list[Any] = []

    def __call__(self, batch_in: Any) -> Any:
        import tensorflow as tf

        if self._function is None:
            signature = self._model._dynamic_signature(batch_in)
            traced = tf.function(self._model.predict_step, input_signature=signature)
            self._function = traced.get_concrete_function()
            self._dtypes = [spec.dtype for spec in signature[0]]
        pairs = zip(batch_in, self._dtypes, strict=True)
        return self._function([tf.convert_to_tensor(x, dtype=d) for x, d in pairs])


def main() -> None:
    _cache_action_response_validator()
    _keep_sqlite_tracker_connections()
    _read_and_write_tracker_events_as_rows()
    _reuse_endpoint_connections()
    _look_up_event_types_once()
    _change_redis_tickets_atomically()
    _say_one_moment_when_the_action_server_is_away()
    _handle_each_message_once_and_numbers_as_buttons()
    _bound_the_session_length()
    _call_the_traced_prediction_directly()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    token = os.environ.get("HELPDESK_RASA_API_TOKEN")
    if token and sys.argv[1:2] == ["run"] and "--auth-token" not in sys.argv:
        # here, not on the command line `ps` shows; "=" so a token starting with "-" is a value
        sys.argv += [f"--auth-token={token}"]
    rasa_main()


if __name__ == "__main__":
    main()
