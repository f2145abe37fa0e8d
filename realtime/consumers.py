"""The `/api/v1/ws/jobs` endpoint.

The consumer owns the protocol: accept/deny, subscriptions (it tells this process's hub which
event types it wants, so it only ever receives those), resume from the event log, ping/pong,
limits and error replies. Event delivery (`push`, called by the hub) forwards text encoded once
per event and never touches the ORM.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import DatabaseError

from jobsentinel import __version__
from realtime import log
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
from realtime.ratelimit import MessageRateLimiter
from realtime.recent import RecentIds, RecentRing
from realtime.security import client_ip, socket_authorized

logger = logging.getLogger(__name__)

REPLAY_PAGE = 500
MAX_EVENT_ID = 2**63 - 1  # the log's id column is a signed 64-bit integer


class RequestError(Exception):
    """A client message that is answered with an `error` and otherwise ignored."""

    def __init__(self, code: ErrorCode, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.extra = extra


def _parse_events(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RequestError(ErrorCode.INVALID_MESSAGE, "'events' must be a list of event names")
    unknown = sorted(set(value) - set(EVENT_TYPES))
    if unknown:
        # Echo a bounded amount of what the client sent.
        shown = [name[:64] for name in unknown[:10]]
        raise RequestError(
            ErrorCode.UNKNOWN_EVENT,
            f"unknown event(s): {', '.join(shown)}",
            unknown=shown,
            valid=list(EVENT_TYPES),
        )
    # Keep the client's order, drop repeats.
    return list(dict.fromkeys(value))


def _parse_last_event_id(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)  # ASCII only: int() refuses some str.isdigit() digits, such as "²"
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_EVENT_ID:
        raise RequestError(
            ErrorCode.INVALID_MESSAGE, "'last_event_id' must be a non-negative integer"
        )
    return value


class JobsConsumer(AsyncJsonWebsocketConsumer):
    # Sockets get events from this process's hub, never from a layer channel of their own. An
    # alias that names no layer gives them none (channels documents None for an unknown alias):
    # a socket then costs the layer nothing, and a restarting Redis cannot kill it.
    channel_layer_alias = "sockets-receive-through-the-hub"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subscribed: list[str] = []
        self.wanted: frozenset[str] = frozenset()
        self.hub: Hub | None = None
        self.ip = "unknown"
        self.registered = False
        # While not None, live events wait here: until `connected` is sent and while a replay
        # runs, so a client always sees connected → replay (in id order) → live.
        self.held: list[tuple[int, str, str]] | None = []
        self.limiter = MessageRateLimiter(settings.WS_RATE_PER_MINUTE, settings.WS_RATE_PER_HOUR)
        # An event can reach a socket twice when it resumes: live (before, during or just after
        # the replay) and in the replay. Live ids are remembered in a small ring; replayed ids
        # until live delivery has moved past them. (The hub already delivers each event once.)
        self.sent_live = RecentRing()
        self.replayed: RecentIds | None = None
        self.replayed_up_to = 0

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
            # Anything unexpected (the database away during a replay, say): say so, close, and
            # give the slot back, rather than leave a half-open consumer counted forever.
            logger.exception("ws connect failed ip=%s", self.ip)
            await self._refuse(ErrorCode.UNAVAILABLE, "server error; try again", CloseCode.INTERNAL)
            await self._forget()

    async def _start(self) -> None:
        self.hub = await get_hub()

        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        events = list(EVENT_TYPES)
        last_event_id: int | None = None
        problem: RequestError | None = None
        try:
            if "events" in query:
                names = [n for part in query["events"] for n in part.split(",") if n]
                events = _parse_events(names)
            last_event_id = _parse_last_event_id(query.get("last_event_id", [None])[0])
        except RequestError as exc:
            problem = exc

        self._set_subscription(events)
        await self.send(
            text_data=encode(
                envelope(
                    ServerMessage.CONNECTED,
                    {
                        "message": "Connected to JobSentinel WebSocket",
                        "version": __version__,
                        "last_event_id": await database_sync_to_async(log.latest_id)(),
                        "heartbeat_interval": settings.WS_HEARTBEAT_SECONDS,
                        "events": list(EVENT_TYPES),
                        "subscribed": self.subscribed,
                    },
                )
            )
        )
        if problem is not None:
            await self._send_error(problem)
        elif last_event_id is not None:
            await self._replay(last_event_id)
        await self._release_held()

    async def _refuse(self, code: ErrorCode, message: str, close_code: CloseCode) -> None:
        await self.send(text_data=error_message(code, message))
        await self.close(code=close_code)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        # autobahn refuses anything but a plain int (an IntEnum member raises, giving a 1011).
        if isinstance(code, int) and not isinstance(code, bool):
            code = int(code)
        await super().close(code=code, reason=reason)

    async def disconnect(self, code: int) -> None:
        if self.registered:
            logger.info("ws disconnect ip=%s code=%s active=%d", self.ip, code, registry.total - 1)
        await self._forget()

    async def _forget(self) -> None:
        if self.hub is not None:
            self.hub.unsubscribe(self)
        if self.registered:
            registry.remove(self.ip)
            self.registered = False

    # --- client messages -------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.registered:
            return
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > settings.WS_MAX_MESSAGE_BYTES:
            await self.send(
                text_data=error_message(
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
            await self.send(
                text_data=error_message(
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
        except DatabaseError:
            logger.exception("ws request failed on the database ip=%s", self.ip)
            self.held = None
            await self._send_error(
                RequestError(ErrorCode.UNAVAILABLE, "the server could not read its event log")
            )

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
            await self.send(text_data=encode(envelope(ServerMessage.PONG, {})))
        elif kind == ClientMessage.SUBSCRIBE:
            events = _parse_events(content.get("events", list(EVENT_TYPES)))
            last_event_id = _parse_last_event_id(content.get("last_event_id"))
            if last_event_id is not None:
                self.held = []
            self._set_subscription(events)
            await self.send(
                text_data=encode(envelope(ServerMessage.SUBSCRIBED, {"events": self.subscribed}))
            )
            if last_event_id is not None:
                await self._replay(last_event_id)
                await self._release_held()
        else:
            raise RequestError(
                ErrorCode.UNKNOWN_TYPE,
                f"unknown message type {kind[:64]!r}",
                valid=list(CLIENT_MESSAGE_TYPES),
            )

    async def _send_error(self, exc: RequestError) -> None:
        await self.send(text_data=error_message(exc.code, str(exc), **exc.extra))

    # --- subscription and resume -------------------------------------------------------------

    def _set_subscription(self, events: list[str]) -> None:
        assert self.hub is not None
        self.hub.subscribe(self, events)
        self.subscribed = events
        self.wanted = frozenset(events)

    async def _replay(self, last_event_id: int) -> None:
        """Send logged events after `last_event_id`. The subscription came first, so events
        committed meanwhile are held and follow the replay; `sent` drops their repeats."""
        pruned = await database_sync_to_async(log.pruned_through)()
        if last_event_id < pruned:
            await self.send(
                text_data=error_message(
                    ErrorCode.RESUME_EXPIRED,
                    f"events up to #{pruned} are past retention; replaying what is kept",
                    pruned_through=pruned,
                )
            )
        page = database_sync_to_async(log.events_page)
        cursor = last_event_id
        self.replayed = RecentIds(4 * REPLAY_PAGE)
        while True:
            events = await page(cursor, self.subscribed, limit=REPLAY_PAGE)
            for event in events:
                if event.id in self.sent_live:
                    continue
                self.replayed.add(event.id)
                self.replayed_up_to = max(self.replayed_up_to, event.id)
                await self.send(text_data=event.text)
            if len(events) < REPLAY_PAGE:
                return
            cursor = events[-1].id

    # --- server-side pushes (called by the hub; never touch the ORM) ----------------------

    async def push(self, event_id: int, event_type: str, text: str) -> None:
        if self.held is not None:
            self.held.append((event_id, event_type, text))
            return
        await self._send_event(event_id, event_type, text)

    async def _send_event(self, event_id: int, event_type: str, text: str) -> None:
        if event_type not in self.wanted:
            return
        if self.replayed is not None:
            if event_id in self.replayed:
                return
            if event_id > self.replayed_up_to:  # live delivery has caught up with the replay
                self.replayed = None
        self.sent_live.add(event_id)
        await self.base_send({"type": "websocket.send", "text": text})

    async def _release_held(self) -> None:
        """Send what was held, then go live. Pushes that arrive meanwhile are held too, so the
        order holds."""
        while self.held:
            batch, self.held = self.held, []
            for event in batch:
                await self._send_event(*event)
        self.held = None

    async def heartbeat(self, text: str) -> None:
        if self.held is None:  # never between `connected` and the end of a replay
            await self.base_send({"type": "websocket.send", "text": text})
