"""`/api/v1/sse/jobs`: the event stream as Server-Sent Events, for clients that cannot or would
rather not speak WebSocket (`curl -N`, a browser's EventSource, a proxy that drops Upgrade).

Each event is `id: <event id>`, `event: <type>`, `data: <the socket's JSON envelope>`; a
`connected` event comes first. Resume with the `Last-Event-ID` header (EventSource sends it when
it reconnects; it wins) or `?last_event_id=`; filter with `?events=`. Keys, origins and
connection caps are the socket's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from jobsentinel import __version__
from jobsentinel.apikeys import is_valid_key, key_from_request, keys_required
from jobsentinel.origins import origin_allowed
from realtime import log
from realtime.client_input import RequestError, parse_events, parse_last_event_id
from realtime.connections import registry
from realtime.events import EVENT_TYPES, ErrorCode, ServerMessage, encode, envelope, error_message
from realtime.hub import Hub, get_hub
from realtime.live import LiveEvent
from realtime.outbox import Outbox, replay

logger = logging.getLogger(__name__)

# How long a browser's EventSource waits before reconnecting after the stream ends.
RETRY_MILLISECONDS = 3000
# Frames waiting for one client before it counts as stuck and its stream is ended; EventSource
# then reconnects with Last-Event-ID and resumes from the log.
MAX_QUEUED_FRAMES = 10_000


def sse_frame(text: str, event_type: str, event_id: int | None = None) -> bytes:
    # The envelope is compact JSON: newlines inside strings are escaped, so one data line.
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event_type}\ndata: {text}\n\n".encode()


class _Client:
    """The hub's subscriber for one stream: frames go to a queue the response drains. What is
    sent, and when, is the socket's own state machine (`realtime.outbox`)."""

    def __init__(self, events: list[str]) -> None:
        self.frames: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.outbox = Outbox(self._send)
        self.events = events
        self.left = False
        self.overflowed = False

    async def _send(self, event_id: int, event_type: str, text: str) -> None:
        self._put(sse_frame(text, event_type, event_id))

    def _put(self, frame: bytes | None) -> None:
        if self.overflowed:
            return  # the end is already queued; the client resumes from the log
        if self.frames.qsize() >= MAX_QUEUED_FRAMES:
            logger.info("sse closing a stream that stopped reading")
            self.overflowed = True
            frame = None
        self.frames.put_nowait(frame)

    async def start(self, last_event_id: int | None) -> None:
        """Replay what the client lacks after `last_event_id`, then go live; what arrived
        meanwhile was held and follows, whether or not the replay was completed."""
        try:
            if last_event_id is not None:
                self.outbox.begin_replay()
                plan = self.outbox.plan(last_event_id)
                if not plan.empty and await replay(
                    self.outbox, plan, pace=self._pace, gone=lambda: self.left
                ):
                    self.outbox.replay_done(plan)
        finally:
            await self.outbox.go_live()

    async def _pace(self) -> bool:
        # Frames wait in this stream's own queue, which ends the stream when it overflows; no
        # client messages to charge, so a page is sent as soon as the last one is queued.
        await asyncio.sleep(0)
        return not self.left

    def push(self, event: LiveEvent) -> Awaitable[None] | None:
        return self.outbox.push(event)

    async def heartbeat(self, text: str) -> None:
        if self.outbox.live:  # never between `connected` and the replay's end
            self._put(sse_frame(text, ServerMessage.HEARTBEAT))


def _header(request: HttpRequest, name: str) -> str | None:
    value = request.headers.get(name)
    return value.strip() if value else None


async def _authorized(request: HttpRequest) -> bool:
    if not keys_required():
        return True
    user = await request.auser()
    if user.is_authenticated:
        return True
    return is_valid_key(key_from_request(request))


def _refuse(status: int, code: ErrorCode, message: str) -> HttpResponse:
    response = HttpResponse(
        error_message(code, message), status=status, content_type="application/json"
    )
    if status == 503:
        response["Retry-After"] = "5"
    return response


@require_GET
async def stream_events(request: HttpRequest) -> HttpResponseBase:
    origin = _header(request, "Origin")
    host = request.META.get("HTTP_HOST")
    if origin is not None and not origin_allowed(origin, secure=request.is_secure(), host=host):
        return _refuse(403, ErrorCode.UNAUTHORIZED, "this origin may not read the stream")
    if not await _authorized(request):
        response = _refuse(
            401, ErrorCode.UNAUTHORIZED, "an API key or a logged-in session is required"
        )
        response["WWW-Authenticate"] = 'Bearer realm="jobsentinel"'
        return response
    ignored: list[str] = []
    try:
        events = list(EVENT_TYPES)
        if request.GET.get("events"):
            events, ignored = parse_events([n for n in request.GET["events"].split(",") if n])
        # The header wins: it is what EventSource sends when it reconnects by itself.
        last_event_id = parse_last_event_id(
            _header(request, "Last-Event-ID") or request.GET.get("last_event_id")
        )
    except RequestError as exc:
        return HttpResponse(
            error_message(exc.code, str(exc), **exc.extra),
            status=400,
            content_type="application/json",
        )
    ip = str(request.META.get("REMOTE_ADDR") or "unknown")
    # Only a look here: the slot is taken when the body starts, so a client that leaves before
    # that (its request cancelled anywhere in between) holds nothing.
    refusal = registry.try_add(ip)
    if refusal is not None:
        logger.info("sse refused ip=%s reason=%s", ip, refusal)
        return _refuse(503, ErrorCode.OVER_CAPACITY, refusal)
    registry.remove(ip)
    stream_response = StreamingHttpResponse(
        _body(ip, events, ignored, last_event_id), content_type="text/event-stream; charset=utf-8"
    )
    stream_response["Cache-Control"] = "no-cache"
    # nginx and others buffer responses by default; an event stream must not be held back.
    stream_response["X-Accel-Buffering"] = "no"
    return stream_response


async def _body(
    ip: str, events: list[str], ignored: list[str], last_event_id: int | None
) -> AsyncIterator[bytes]:
    if registry.try_add(ip) is not None:  # filled up since the look: end; the client retries
        return
    client = _Client(events)
    hub: Hub | None = None
    starting: asyncio.Task[None] | None = None
    getting: asyncio.Future[bytes | None] | None = None
    try:
        hub = await get_hub()
        # Join the hub before reading the log's head: every event after it then reaches this
        # stream live (held until the replay, if any, is sent).
        hub.subscribe(client, events)
        latest = await database_sync_to_async(log.latest_id)()
        client.outbox.subscribe(events, live_after=latest)
        logger.info("sse connect ip=%s active=%d", ip, registry.total)
        yield f"retry: {RETRY_MILLISECONDS}\n".encode() + sse_frame(
            _connected(events, ignored, latest), ServerMessage.CONNECTED
        )
        starting = asyncio.ensure_future(client.start(last_event_id))
        while True:
            if getting is None:
                getting = asyncio.ensure_future(client.frames.get())
            waiting: set[asyncio.Future[Any]] = {getting}
            if starting is not None:
                waiting.add(starting)
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if starting is not None and starting in done:
                failure = starting.exception()
                starting = None
                if failure is not None:
                    # The stream ends; EventSource reconnects by itself and resumes.
                    logger.warning("sse replay failed ip=%s: %s", ip, failure)
                    return
            if getting in done:
                frame = getting.result()
                getting = None
                if frame is None:
                    return
                yield frame
    finally:
        client.left = True
        for task in (getting, starting):
            if task is not None:
                task.cancel()
        if starting is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await starting
        if hub is not None:
            hub.unsubscribe(client)
        registry.remove(ip)
        logger.info("sse disconnect ip=%s active=%d", ip, registry.total)


def _connected(events: list[str], ignored: list[str], latest: int) -> str:
    data: dict[str, Any] = {
        "message": "Connected to JobSentinel event stream",
        "version": __version__,
        "last_event_id": latest,
        "heartbeat_interval": settings.WS_HEARTBEAT_SECONDS,
        "events": list(EVENT_TYPES),
        "subscribed": events,
    }
    if ignored:
        data["ignored"] = ignored
    return encode(envelope(ServerMessage.CONNECTED, data))
