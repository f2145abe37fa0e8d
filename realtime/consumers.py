"""The `/api/v1/ws/jobs` endpoint.

The consumer owns the protocol: accept/deny, subscriptions (it tells this process's hub which
event types it wants, so it only ever receives those), resume from the event log, ping/pong,
limits and error replies. What the socket is sent and when (held, replaying, live) is its
`Outbox`. Event delivery (`push`, called by the hub) forwards text encoded once per event and
never touches the ORM. A client may leave at any moment: everything it took is given back
whichever way the consumer ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import DatabaseError

from jobsentinel import __version__
from realtime import log
from realtime.client_input import RequestError, parse_events, parse_last_event_id
from realtime.connections import registry
from realtime.events import (
    CLIENT_MESSAGE_TYPES,
    EVENT_TYPES,
    ClientMessage,
    CloseCode,
    ErrorCode,
    ServerMessage,
    encode,
    envelope,
    error_message,
)
from realtime.hub import Hub, get_hub
from realtime.live import LiveEvent, frame_writer
from realtime.outbox import Outbox, ReplayPlan, replay
from realtime.ratelimit import MessageRateLimiter
from realtime.security import client_ip, socket_authorized

logger = logging.getLogger(__name__)


class JobsConsumer(AsyncJsonWebsocketConsumer):
    # Sockets get events from this process's hub, never from a layer channel of their own. An
    # alias that names no layer gives them none (channels documents None for an unknown alias):
    # a socket then costs the layer nothing, and a restarting Redis cannot kill it.
    channel_layer_alias = "sockets-receive-through-the-hub"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subscribed: list[str] = []
        self.hub: Hub | None = None
        self.ip = "unknown"
        self.registered = False
        # True as soon as the server reports the client gone, even while a handler (a replay)
        # is still running: that work then stops instead of serving nobody.
        self.gone = False
        self._gone_event: asyncio.Event | None = None  # only while a replay waits for pacing
        self.outbox = Outbox(self._send_event)
        self.limiter = MessageRateLimiter(settings.WS_RATE_PER_MINUTE, settings.WS_RATE_PER_HOUR)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Run the consumer; whichever way it ends (the client gone at any moment, a fault, the
        server cancelling it) its slot, address count and hub membership are given back."""
        self.scope = scope
        self.channel_layer = None  # sockets get events from the hub (see channel_layer_alias)
        self.base_send = send
        self.outbox.write_frame = frame_writer(scope)
        try:
            await self._serve(receive)
        except StopConsumer:
            pass
        finally:
            self._release()

    async def _serve(self, receive: Any) -> None:
        """Handle the client's messages one at a time, in order (channels' dispatch). While one
        is handled (a replay can take a while) a watcher reads on, so a departure is noticed at
        once; an idle socket waits on its receive channel alone, with no task or queue of its
        own (memory per idle socket)."""
        backlog: list[dict[str, Any]] = []
        while True:
            message = backlog.pop(0) if backlog else await receive()
            if message["type"] == "websocket.disconnect":
                self._leave()
                await self.dispatch(message)  # disconnect(), then StopConsumer
                return
            watcher = asyncio.ensure_future(self._watch(receive, backlog))
            try:
                await self.dispatch(message)
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    async def _watch(self, receive: Any, backlog: list[dict[str, Any]]) -> None:
        while True:
            message = await receive()
            backlog.append(message)
            if message["type"] == "websocket.disconnect":
                self._leave()
                return

    def _leave(self) -> None:
        self.gone = True
        if self._gone_event is not None:
            self._gone_event.set()

    # --- lifecycle -------------------------------------------------------------------------

    async def connect(self) -> None:
        self.ip = client_ip(self.scope)
        # Under daphne a close before accept always becomes HTTP 403, so accept first and then
        # close with the code that says why.
        await self.accept()
        if not socket_authorized(self.scope):
            logger.info("ws refused ip=%s reason=unauthorized", self.ip)
            await self._refuse(
                ErrorCode.UNAUTHORIZED,
                "an API key or a logged-in session is required",
                CloseCode.UNAUTHORIZED,
            )
            return
        refusal = registry.try_add(self.ip)
        if refusal is not None:
            logger.info("ws refused ip=%s reason=%s", self.ip, refusal)
            await self._refuse(ErrorCode.OVER_CAPACITY, refusal, CloseCode.OVER_CAPACITY)
            return
        self.registered = True
        logger.info("ws connect ip=%s active=%d", self.ip, registry.total)
        try:
            await self._start()
        except Exception:
            if self.gone:
                return  # the client left while being set up: nothing to report to anyone
            # Anything unexpected (the database away, say): say so, close, and give the slot
            # back, rather than leave a half-open consumer counted forever.
            logger.exception("ws connect failed ip=%s", self.ip)
            await self._refuse(ErrorCode.UNAVAILABLE, "server error; try again", CloseCode.INTERNAL)
            self._release()

    async def _start(self) -> None:
        self.hub = await get_hub()

        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        events = list(EVENT_TYPES)
        ignored: list[str] = []
        last_event_id: int | None = None
        problem: RequestError | None = None
        try:
            if "events" in query:
                names = [n for part in query["events"] for n in part.split(",") if n]
                events, ignored = parse_events(names)
            last_event_id = parse_last_event_id(query.get("last_event_id", [None])[0])
        except RequestError as exc:
            problem = exc

        # Join the hub before reading the log's head: every event after it then reaches this
        # socket live (held until the replay, if any, is sent).
        self.hub.subscribe(self, events)
        latest = await database_sync_to_async(log.latest_id)()
        self.outbox.subscribe(events, live_after=latest)
        self.subscribed = events
        data: dict[str, Any] = {
            "message": "Connected to JobSentinel WebSocket",
            "version": __version__,
            "last_event_id": latest,
            "heartbeat_interval": settings.WS_HEARTBEAT_SECONDS,
            "events": list(EVENT_TYPES),
            "subscribed": self.subscribed,
        }
        if ignored:
            data["ignored"] = ignored
        await self._send_text(encode(envelope(ServerMessage.CONNECTED, data)))
        if problem is not None:
            await self._send_error(problem)
        elif last_event_id is not None:
            await self._resume(last_event_id)
        await self.outbox.go_live()

    async def _refuse(self, code: ErrorCode, message: str, close_code: CloseCode) -> None:
        await self._send_text(error_message(code, message))
        await self.close(code=close_code)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        # autobahn refuses anything but a plain int (an IntEnum member raises, giving a 1011).
        if isinstance(code, int) and not isinstance(code, bool):
            code = int(code)
        if not self.gone:
            await super().close(code=code, reason=reason)

    async def disconnect(self, code: int) -> None:
        if self.registered:
            logger.info("ws disconnect ip=%s code=%s active=%d", self.ip, code, registry.total - 1)
        self._release()

    def _release(self) -> None:
        """Give back what the socket took; safe to call more than once."""
        if self.hub is not None:
            self.hub.unsubscribe(self)
        if self.registered:
            registry.remove(self.ip)
            self.registered = False

    async def _send_text(self, text: str) -> None:
        if self.gone:
            return  # nobody to send to
        await self.base_send({"type": "websocket.send", "text": text})

    async def _send_event(self, event_id: int, event_type: str, text: str) -> None:
        await self._send_text(text)  # the envelope carries the id and type already

    # --- client messages -------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.registered or self.gone:
            return
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > settings.WS_MAX_MESSAGE_BYTES:
            await self._send_text(
                error_message(
                    ErrorCode.MESSAGE_TOO_LARGE,
                    f"messages are limited to {settings.WS_MAX_MESSAGE_BYTES} bytes",
                    limit=settings.WS_MAX_MESSAGE_BYTES,
                )
            )
            await self.close(code=CloseCode.MESSAGE_TOO_BIG)
            return
        if not self.limiter.allow():
            if self.limiter.exhausted:
                logger.info("ws closing ip=%s reason=rate limit exceeded", self.ip)
                await self.close(code=CloseCode.RATE_LIMIT_EXCEEDED)
                return
            await self._send_text(
                error_message(
                    ErrorCode.RATE_LIMITED,
                    f"too many messages: at most {settings.WS_RATE_PER_MINUTE} per minute "
                    f"and {settings.WS_RATE_PER_HOUR} per hour",
                    retry_after=self.limiter.retry_after(),
                )
            )
            return
        try:
            if text_data is None:
                raise RequestError(
                    ErrorCode.INVALID_MESSAGE, "binary frames are not supported; send JSON text"
                )
            await self.handle(self._decode(text_data))
        except RequestError as exc:
            await self._send_error(exc)

    @staticmethod
    def _decode(text: str) -> dict[str, Any]:
        try:
            content = json.loads(text)
        except (ValueError, RecursionError):
            raise RequestError(ErrorCode.INVALID_JSON, "message is not valid JSON") from None
        if not isinstance(content, dict):
            raise RequestError(ErrorCode.INVALID_MESSAGE, "message must be a JSON object")
        kind = content.get("type")
        if not isinstance(kind, str):
            raise RequestError(ErrorCode.INVALID_MESSAGE, "message needs a string 'type'")
        return content

    async def handle(self, content: dict[str, Any]) -> None:
        kind = content["type"]
        if kind == ClientMessage.PING:
            await self._send_text(encode(envelope(ServerMessage.PONG, {})))
        elif kind == ClientMessage.SUBSCRIBE:
            events, ignored = parse_events(content.get("events", list(EVENT_TYPES)))
            last_event_id = parse_last_event_id(content.get("last_event_id"))
            if last_event_id is not None:
                self.outbox.begin_replay()  # hold live events from the moment types change
            self._set_subscription(events)
            data: dict[str, Any] = {"events": self.subscribed}
            if ignored:
                data["ignored"] = ignored
            await self._send_text(encode(envelope(ServerMessage.SUBSCRIBED, data)))
            if last_event_id is not None:
                await self._resume(last_event_id)
                await self.outbox.go_live()
        else:
            raise RequestError(
                ErrorCode.UNKNOWN_TYPE,
                f"unknown message type {kind[:64]!r}",
                valid=list(CLIENT_MESSAGE_TYPES),
            )

    async def _send_error(self, exc: RequestError) -> None:
        await self._send_text(error_message(exc.code, str(exc), **exc.extra))

    # --- subscription and resume -------------------------------------------------------------

    def _set_subscription(self, events: list[str]) -> None:
        assert self.hub is not None
        self.hub.subscribe(self, events)
        # A type added now is owed what the hub delivers from here on.
        self.outbox.subscribe(events, live_after=self.hub.last_event_id)
        self.subscribed = events

    async def _resume(self, after: int) -> None:
        """Replay what this socket lacks after `after`; the caller then goes live, which sends
        what was held meanwhile, whether or not the replay could be completed."""
        self.outbox.begin_replay()
        plan = self.outbox.plan(after)
        if plan.empty:
            return  # a repeated resume: this socket already has all of it
        try:
            if await self._replay(plan):
                self.outbox.replay_done(plan)
        except DatabaseError:
            logger.warning("ws replay failed on the database ip=%s", self.ip, exc_info=True)
            await self._send_error(
                RequestError(ErrorCode.UNAVAILABLE, "the server could not read its event log")
            )

    async def _replay(self, plan: ReplayPlan) -> bool:
        """Send the plan's logged events in id order; True when all were sent. Each page costs
        one message of the client's allowance, so resuming cannot outrun the rate limits."""
        pruned = await database_sync_to_async(log.pruned_through)()
        if plan.after < pruned:
            await self._send_text(
                error_message(
                    ErrorCode.RESUME_EXPIRED,
                    f"events up to #{pruned} are past retention; replaying what is kept",
                    pruned_through=pruned,
                )
            )
        return await replay(self.outbox, plan, pace=self._pace, gone=lambda: self.gone)

    async def _pace(self) -> bool:
        """Spend one message of the allowance, waiting for it if need be; False if the client
        left meanwhile."""
        while (wait := self.limiter.charge()) > 0:
            if self.gone:
                return False
            if self._gone_event is None:
                self._gone_event = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._gone_event.wait(), wait)
        return not self.gone

    # --- server-side pushes (called by the hub; never touch the ORM) ----------------------

    def push(self, event: LiveEvent) -> Awaitable[None] | None:
        return self.outbox.push(event)

    async def heartbeat(self, text: str) -> None:
        if self.outbox.live:  # never between `connected` and the end of a replay
            await self._send_text(text)
