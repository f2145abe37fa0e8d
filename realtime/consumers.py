"""The `/api/v1/ws/jobs` endpoint.

The consumer owns the protocol: accept/deny, subscriptions (one channel-layer group per event
type, so a socket only receives what it asked for), resume from the event log, ping/pong,
heartbeats, limits and error replies. Event delivery (`event_push`) forwards text encoded once
per event and never touches the ORM.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from jobsentinel import __version__
from realtime import delivery, log, relay
from realtime.connections import registry
from realtime.events import (
    CLIENT_MESSAGE_TYPES,
    EVENT_TYPES,
    PUSH_MESSAGE_TYPE,
    ClientMessage,
    CloseCode,
    ErrorCode,
    ServerMessage,
    encode,
    envelope,
    error_message,
    group_name,
)
from realtime.ratelimit import MessageRateLimiter
from realtime.recent import RecentIds
from realtime.security import client_ip, socket_authorized

logger = logging.getLogger(__name__)

# Channel-layer message types whose handlers never touch the ORM: they skip the database
# connection clean-up hop that channels runs before every other handler.
ORM_FREE_HANDLERS = frozenset({PUSH_MESSAGE_TYPE})
REPLAY_PAGE = 500


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
        raise RequestError(
            ErrorCode.UNKNOWN_EVENT,
            f"unknown event(s): {', '.join(unknown)}",
            unknown=unknown,
            valid=list(EVENT_TYPES),
        )
    # Keep the client's order, drop repeats.
    return list(dict.fromkeys(value))


def _parse_last_event_id(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RequestError(
            ErrorCode.INVALID_MESSAGE, "'last_event_id' must be a non-negative integer"
        )
    return value


class JobsConsumer(AsyncJsonWebsocketConsumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subscribed: list[str] = []
        self.groups: list[str] = []
        self.ip = "unknown"
        self.registered = False
        self.heartbeat_task: asyncio.Task[None] | None = None
        self.limiter = MessageRateLimiter(settings.WS_RATE_PER_MINUTE, settings.WS_RATE_PER_HOUR)
        # Event ids already sent, live or replayed: the other path drops its repeat.
        self.sent = RecentIds()

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

        if delivery.mode() == "embedded":
            await relay.ensure_started()

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

        await self._set_subscription(events)
        latest = await database_sync_to_async(log.latest_id)()
        await self.send(
            text_data=encode(
                envelope(
                    ServerMessage.CONNECTED,
                    {
                        "message": "Connected to JobSentinel WebSocket",
                        "version": __version__,
                        "last_event_id": latest,
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
        self.heartbeat_task = asyncio.get_running_loop().create_task(self._heartbeat())

    async def _refuse(self, code: ErrorCode, message: str, close_code: CloseCode) -> None:
        await self.send(text_data=error_message(code, message))
        await self.close(code=close_code)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        # autobahn refuses anything but a plain int (an IntEnum member raises, giving a 1011).
        if isinstance(code, int) and not isinstance(code, bool):
            code = int(code)
        await super().close(code=code, reason=reason)

    async def disconnect(self, code: int) -> None:
        if self.heartbeat_task is not None:
            self.heartbeat_task.cancel()
        if self.registered:
            registry.remove(self.ip)
            self.registered = False
            logger.info("ws disconnect ip=%s code=%s active=%d", self.ip, code, registry.total)

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            # Channels would raise and kill the socket; a stray message type must not.
            logger.warning("ignoring channel message of unknown type %r", message.get("type"))
            return
        if message["type"] in ORM_FREE_HANDLERS:
            await handler(message)
        else:
            await super().dispatch(message)

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
            await self._set_subscription(events)
            await self.send(
                text_data=encode(envelope(ServerMessage.SUBSCRIBED, {"events": self.subscribed}))
            )
            if last_event_id is not None:
                await self._replay(last_event_id)
        else:
            raise RequestError(
                ErrorCode.UNKNOWN_TYPE,
                f"unknown message type {kind[:64]!r}",
                valid=list(CLIENT_MESSAGE_TYPES),
            )

    async def _send_error(self, exc: RequestError) -> None:
        await self.send(text_data=error_message(exc.code, str(exc), **exc.extra))

    # --- subscription and resume -------------------------------------------------------------

    async def _set_subscription(self, events: list[str]) -> None:
        layer = self.channel_layer
        wanted = {group_name(e) for e in events}
        current = set(self.groups)
        for group in wanted - current:
            await layer.group_add(group, self.channel_name)
        for group in current - wanted:
            await layer.group_discard(group, self.channel_name)
        self.groups = [group_name(e) for e in events]
        self.subscribed = events

    async def _replay(self, last_event_id: int) -> None:
        """Send logged events after `last_event_id`. The groups were joined first, so events
        committed meanwhile wait in this consumer's channel; `sent` drops their repeats."""
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
        while True:
            events = await page(cursor, self.subscribed, limit=REPLAY_PAGE)
            for event in events:
                if self.sent.add(event.id):
                    await self.send(text_data=event.text)
            if len(events) < REPLAY_PAGE:
                return
            cursor = events[-1].id

    # --- server-side pushes ------------------------------------------------------------------

    async def event_push(self, message: dict[str, Any]) -> None:
        if message["event"] not in self.subscribed:  # in flight while unsubscribing
            return
        if self.sent.add(message["id"]):
            await self.send(text_data=message["text"])

    async def _heartbeat(self) -> None:
        interval = settings.WS_HEARTBEAT_SECONDS
        while True:
            await asyncio.sleep(interval)
            await self.send(text_data=encode(envelope(ServerMessage.HEARTBEAT, {})))
