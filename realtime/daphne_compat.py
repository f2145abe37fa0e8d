"""Adjustments to daphne, applied when the app is loaded by daphne (see jobsentinel.asgi).

1. Registered close codes. daphne closes sockets through autobahn's `sendClose`, which only
   accepts 1000 and 3000-4999 and raises on anything else, so the socket ends with 1011 instead.
   RFC 6455 and the IANA registry let a server send 1009 (too big), 1012 (restart) and 1013
   (try again later); those go through autobahn's lower-level `sendCloseFrame`, which is what
   daphne itself uses for 1011.
2. Slow readers. daphne writes everything a socket is sent into its transport buffer, which
   grows without limit when a client stops reading. A socket with more than
   `JOBSENTINEL_WS_MAX_BACKLOG_BYTES` waiting for `JOBSENTINEL_WS_SLOW_READER_SECONDS`, or with
   `HARD_BACKLOG_FACTOR` times that at any moment, is sent 4408 and cut off shortly after, so
   one stuck client can neither grow the server's memory nor hold the others back. (A healthy
   reader can go past the limit for a moment during a burst; it is not punished for that.)
3. Access log without query strings. daphne logs the full URI of HTTP requests, so a key sent
   as `?api_key=` (say to the socket URL through a proxy that drops the Upgrade header) would
   land in the log. Paths are logged without their query string.
4. Frames built without autobahn. A text message daphne sends is written as one frame
   (unmasked, unfragmented, uncompressed: all daphne ever sends) built by
   `realtime.live.text_frame`, instead of autobahn framing (and debug-formatting) it. Live
   events go further (patch 9): their frame is built once for every socket.
5. Sends to a socket on its way out are dropped. A client that closes right after the
   handshake (a browser closing a CONNECTING socket does) leaves the socket CLOSING before
   daphne marks it disconnected; autobahn then raises on every send, which used to end the
   consumer with "Exception inside application". Such a frame could never arrive: it is
   dropped, and the consumer learns of the departure from its `websocket.disconnect`.
6. Over-size frames end with a close frame. autobahn fails a connection by dropping TCP by
   default (`failByDrop`), so a frame over daphne's `--websocket-max-message-size` left the
   client with 1006 and no reason. With `failByDrop` off it sends 1009 (or 1002 for a protocol
   violation) and performs the closing handshake.
7. Graceful restart. On SIGTERM/SIGINT daphne just drops every socket (clients see 1006 and
   cannot tell a restart from a crash). Before the reactor shuts down, every open socket is sent
   1012 "service restart", so clients reconnect promptly (with jitter) and resume.
8. An inherited listening socket keeps its address family. `manage.py serve` binds the socket
   once and each daphne adopts it (`--fd`); Twisted's `fd:` endpoint assumes IPv4 unless told
   otherwise, and cannot be told (its `domain` stays a string), so on an IPv6 address every
   peer address came out garbled, and the per-address caps with them. The family is read from
   the socket itself.
9. Live events written straight to the socket. Through ASGI, each socket's copy of an event
   costs a chain of coroutines (the consumer's send, the session middleware's, daphne's
   `handle_reply`, then `serverSend`): most of a delivery's CPU. daphne gives each socket's
   scope a `write_frame(frame) -> bool` (the `jobsentinel.write_frame` extension) bound to its
   protocol; the hub's fan-out hands it the event's frame, built once, and it writes it under
   the same rules as `serverSend` (patches 2, 4, 5): straight to the socket (one send(2), as
   asyncio's transports do) when Twisted holds nothing unsent for it, else behind what waits
   in Twisted's buffer. Everything else a socket is sent (`connected`, replies, replays,
   close) still goes through ASGI.
10. A lean receive channel per socket. daphne gives every connection an `asyncio.Queue` for
    the messages its application receives: three deques and an `Event`, about 3 KB, for a
    channel that carries a handful of messages in a socket's life. Sockets get a
    `SocketInbox` (the same `put_nowait`/`get`, first in first out) instead.
11. Event streams that stop reading are ended. daphne writes HTTP body chunks to Twisted without
    back-pressure, so a Server-Sent Events stream (`realtime.sse`) whose client stopped reading
    grows the server's memory with every event, as a socket did before patch 2. A
    `text/event-stream` response is held to the socket's rule (`stopped_reading`: more than
    `JOBSENTINEL_WS_MAX_BACKLOG_BYTES` unsent for `JOBSENTINEL_WS_SLOW_READER_SECONDS`, or
    `HARD_BACKLOG_FACTOR` times that at once) and its connection is dropped; there is no close
    frame to send, and the client is not reading anyway. daphne then tells the view
    (`http.disconnect`), whose clean-up releases the slot; EventSource reconnects with
    Last-Event-ID and resumes from the log. Finite responses are left alone: their backlog is
    bounded by their own size.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
import time
import weakref
from typing import Any

from django.conf import settings

from realtime.events import CloseCode
from realtime.live import WRITE_FRAME_EXTENSION, text_frame

logger = logging.getLogger(__name__)

SERVER_CLOSE_CODES = frozenset({1001, 1008, 1009, 1011, 1012, 1013, 1014})
# How long the reactor waits after the 1012 frames so they leave the socket buffers.
CLOSE_FLUSH_SECONDS = 0.3
# A slow reader gets this long to take its close frame before the connection is cut.
SLOW_READER_GRACE_SECONDS = 2.0
HARD_BACKLOG_FACTOR = 8

_open_sockets: weakref.WeakSet[Any] = weakref.WeakSet()


def _first_time(owner: Any, flag: str) -> bool:
    """True the first time a patch asks for `owner` (and marks it): `install()` may run more
    than once in a process, and a patch applied twice would wrap its own wrapper."""
    if getattr(owner, flag, False):
        return False
    setattr(owner, flag, True)
    return True


def allow_registered_close_codes() -> None:
    from daphne.ws_protocol import WebSocketProtocol

    if not _first_time(WebSocketProtocol, "_jobsentinel_close_codes"):
        return
    original = WebSocketProtocol.serverClose

    @functools.wraps(original)
    def server_close(self: Any, code: int | None = None) -> None:
        if code in SERVER_CLOSE_CODES:
            self.sendCloseFrame(code=code, isReply=False)
        else:
            original(self, code)

    WebSocketProtocol.serverClose = server_close


def _pending_bytes(transport: Any) -> int:
    """Bytes written to a Twisted TCP transport that the kernel has not taken yet."""
    try:
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    except AttributeError:  # not a plain TCP transport (tests, TLS wrappers): no limit applied
        return 0


def stopped_reading(holder: Any, pending: int) -> bool:
    """The slow-reader rule, for sockets (patch 2) and event streams (patch 11): `pending`
    unsent bytes over `WS_MAX_BACKLOG_BYTES` for `WS_SLOW_READER_SECONDS`, or over
    `HARD_BACKLOG_FACTOR` times it at once. A healthy reader can go past the bound for a moment
    during a burst; it is not punished for that. `holder` keeps when it went over (a class
    default of None, so a connection gets the instance attribute only once it falls behind)."""
    limit = settings.WS_MAX_BACKLOG_BYTES
    if pending <= limit:
        if holder._jobsentinel_over_since is not None:
            holder._jobsentinel_over_since = None
        return False
    now = time.monotonic()
    if holder._jobsentinel_over_since is None:
        holder._jobsentinel_over_since = now
    stuck = now - holder._jobsentinel_over_since > settings.WS_SLOW_READER_SECONDS
    return stuck or pending > limit * HARD_BACKLOG_FACTOR


def too_slow(protocol: Any) -> bool:
    """True (and the socket on its way out) when this client stopped reading (patch 2)."""
    if protocol._jobsentinel_too_slow:
        return True
    pending = _pending_bytes(protocol.transport)
    if not stopped_reading(protocol, pending):
        return False
    from twisted.internet import reactor as twisted_reactor

    # zope interface methods confuse mypy about argument positions; the call is as documented.
    reactor: Any = twisted_reactor
    protocol._jobsentinel_too_slow = True
    logger.info("closing a socket that stopped reading (%d bytes waiting)", pending)
    protocol.sendCloseFrame(code=int(CloseCode.TOO_SLOW), isReply=False)
    reactor.callLater(SLOW_READER_GRACE_SECONDS, protocol.transport.abortConnection)
    return True


def _backlog_defaults(protocol_class: Any) -> None:
    """The slow-reader state as class defaults: a socket gets instance attributes (memory) only
    once it falls behind."""
    protocol_class._jobsentinel_too_slow = False
    protocol_class._jobsentinel_over_since = None


def write_frame(protocol: Any, frame: bytes) -> bool:
    """Write a pre-built text frame (`realtime.live.text_frame`) to a socket. True when the
    frame is dealt with: written, or dropped because the socket is on its way out (patch 5) or
    its client stopped reading (patch 2). False when autobahn must send this message itself
    (not open yet, a fragmented message or compression under way): the caller then sends the
    text through daphne as usual, which goes through the same checks."""
    state = protocol.state
    if state != protocol.STATE_OPEN:
        return bool(state == protocol.STATE_CLOSING or state == protocol.STATE_CLOSED)
    if too_slow(protocol):
        return True
    if (
        protocol.send_state != protocol.SEND_STATE_GROUND
        or protocol.send_queue
        or protocol._perMessageCompress is not None
    ):
        return False
    send_now(protocol.transport, frame)
    return True


def send_now(transport: Any, data: bytes) -> None:
    """Write to a plain TCP transport the way asyncio's transports do: straight to the socket
    (one send(2)) when Twisted holds nothing unsent for it; what the kernel does not take, and
    anything while bytes wait, goes through Twisted's buffer, so the order holds. Twisted's own
    `write` always buffers and has the reactor watch the socket for writability, then stop
    watching it: two epoll_ctl calls and most of a delivery's CPU, for every socket."""
    try:
        idle = (
            not transport.TLS
            and transport.connected
            and not transport.disconnecting
            and not transport._writeDisconnected
            and transport.offset == len(transport.dataBuffer)
            and not transport._tempDataLen
        )
        sock = transport.socket
    except AttributeError:  # not a plain TCP transport (tests, TLS wrappers): Twisted's path
        idle = False
    if idle:
        try:
            sent = sock.send(data)
        except OSError:  # full (EAGAIN) or broken: Twisted's write path finds out and reports
            sent = 0
        if sent == len(data):
            return
        data = data[sent:]
    transport.write(data)


def fast_sends_and_slow_readers() -> None:
    from daphne.ws_protocol import WebSocketProtocol

    if not _first_time(WebSocketProtocol, "_jobsentinel_backlog"):
        return
    original_send = WebSocketProtocol.serverSend
    _backlog_defaults(WebSocketProtocol)

    @functools.wraps(original_send)
    def server_send(self: Any, content: Any, binary: bool = False) -> None:
        if not binary and isinstance(content, str):
            if write_frame(self, text_frame(content)):
                return
        elif self.state in (self.STATE_CLOSING, self.STATE_CLOSED) or too_slow(self):
            return  # the peer is leaving, or not reading: nothing sent now would reach it
        original_send(self, content, binary)  # anything unusual: autobahn's own path

    WebSocketProtocol.serverSend = server_send


class SocketInbox:
    """A socket's receive channel: what daphne's per-connection `asyncio.Queue` does for it
    (`put_nowait` from the protocol, `get` from the application, first in first out, nothing
    lost when a `get` is cancelled) without that queue's three deques and an `Event`, about
    3 KB per idle socket. Messages wait in a list that exists only while there are some; a
    waiting `get` holds one future, which only signals (the message stays here until taken)."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, message: Any) -> None:
        if self._items is None:
            self._items = [message]
        else:
            self._items.append(message)
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Any:
        while not self._items:
            waiter = self._waiter
            if waiter is None or waiter.done():
                waiter = self._waiter = asyncio.get_running_loop().create_future()
            await waiter
        message = self._items.pop(0)
        if not self._items:
            self._items = None
        return message

    def qsize(self) -> int:
        return len(self._items) if self._items else 0


def lean_sockets() -> None:
    """Patches 9 and 10, in daphne's `Server.create_application`: a socket's scope carries
    `write_frame` bound to its protocol (extension `WRITE_FRAME_EXTENSION`), so the hub's live
    events skip the ASGI send chain; and its receive channel is a `SocketInbox`. HTTP requests
    are left to daphne's own code."""
    from daphne.server import Server
    from daphne.ws_protocol import WebSocketProtocol

    if not _first_time(Server, "_jobsentinel_lean_sockets"):
        return
    original_create = Server.create_application
    _backlog_defaults(WebSocketProtocol)
    WebSocketProtocol.jobsentinel_write_frame = write_frame

    @functools.wraps(original_create)
    def create_application(self: Any, protocol: Any, scope: dict[str, Any]) -> Any:
        if scope.get("type") != "websocket":
            return original_create(self, protocol, scope)
        extensions = dict(scope.get("extensions") or {})
        extensions[WRITE_FRAME_EXTENSION] = {"write": protocol.jobsentinel_write_frame}
        scope["extensions"] = extensions
        # daphne's own method from here, with a SocketInbox for its asyncio.Queue.
        assert "application_instance" not in self.connections[protocol]
        inbox = SocketInbox()
        scope.setdefault("asgi", {"version": "3.0"})
        application_instance = self.application(
            scope=scope, receive=inbox.get, send=functools.partial(self.handle_reply, protocol)
        )
        if protocol not in self.connections:
            return None
        self.connections[protocol]["application_instance"] = asyncio.ensure_future(
            application_instance, loop=asyncio.get_event_loop()
        )
        return inbox

    Server.create_application = create_application


def close_frames_instead_of_drops() -> None:
    from daphne.ws_protocol import WebSocketFactory

    if not _first_time(WebSocketFactory, "_jobsentinel_no_drop"):
        return
    original_init = WebSocketFactory.__init__

    @functools.wraps(original_init)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        # daphne later sets its own options with setProtocolOptions, which keeps this one.
        self.setProtocolOptions(failByDrop=False)

    WebSocketFactory.__init__ = init


def close_sockets_on_shutdown() -> None:
    from daphne.ws_protocol import WebSocketProtocol
    from twisted.internet import reactor as twisted_reactor
    from twisted.internet import task

    # zope interface methods confuse mypy about argument positions; the call is as documented.
    reactor: Any = twisted_reactor

    if not _first_time(WebSocketProtocol, "_jobsentinel_tracked"):
        return
    original_open = WebSocketProtocol.onOpen

    @functools.wraps(original_open)
    def on_open(self: Any) -> None:
        _open_sockets.add(self)
        original_open(self)

    WebSocketProtocol.onOpen = on_open

    def announce_restart() -> Any:
        sockets = [s for s in list(_open_sockets) if s.state == s.STATE_OPEN]
        for socket in sockets:
            socket.sendCloseFrame(code=int(CloseCode.SERVER_RESTART), isReply=False)
        logger.info("shutting down: sent 1012 to %d socket(s)", len(sockets))
        return task.deferLater(reactor, CLOSE_FLUSH_SECONDS, lambda: None) if sockets else None

    # Registered before daphne's own trigger (which kills the applications), so the close
    # frames go out while the sockets are still whole.
    reactor.addSystemEventTrigger("before", "shutdown", announce_restart)


def access_log_without_query_strings() -> None:
    from daphne.access import AccessLogGenerator

    if not _first_time(AccessLogGenerator, "_jobsentinel_no_query"):
        return
    original = AccessLogGenerator.__call__

    @functools.wraps(original)
    def log(self: Any, protocol: str, action: str, details: dict[str, Any]) -> None:
        path = details.get("path")
        if isinstance(path, str) and "?" in path:
            details = {**details, "path": path.split("?", 1)[0]}
        original(self, protocol, action, details)

    AccessLogGenerator.__call__ = log


def adopted_sockets_keep_their_family() -> None:
    import socket

    from twisted.internet import endpoints
    from twisted.plugins import fd_endpoint

    # Twisted's own types would have it that methods are never replaced: this is the point.
    parser_class: Any = fd_endpoint._FDParser
    if not _first_time(parser_class, "_jobsentinel_family"):
        return
    original = parser_class._parseServer

    @functools.wraps(original)
    def parse(self: Any, reactor: Any, fileno: str, domain: Any = None) -> Any:
        descriptor = int(fileno)
        probe = socket.socket(fileno=descriptor)  # family detected from the descriptor
        family = probe.family
        probe.detach()  # the descriptor stays open, for Twisted
        return endpoints.AdoptedStreamServerEndpoint(reactor, descriptor, family)

    parser_class._parseServer = parse


def event_streams_that_stop_reading_end() -> None:
    from daphne.http_protocol import WebRequest

    if not _first_time(WebRequest, "_jobsentinel_stream_backlog"):
        return
    original = WebRequest.handle_reply
    # Class defaults: a request gets instance attributes only once its client falls behind.
    WebRequest._jobsentinel_over_since = None
    WebRequest._jobsentinel_cut = False

    @functools.wraps(original)
    def handle_reply(self: Any, message: dict[str, Any]) -> None:
        if self._jobsentinel_cut:
            return  # on its way out: nothing sent now would reach the client
        original(self, message)
        if (
            message["type"] != "http.response.body"
            or not message.get("more_body", False)
            or self.finished
            or self.channel is None
            or not _is_event_stream(self)
        ):
            return
        pending = _pending_bytes(self.transport)
        if stopped_reading(self, pending):
            self._jobsentinel_cut = True
            logger.info("closing an event stream that stopped reading (%d bytes waiting)", pending)
            # Not loseConnection: that waits for the buffer to drain, which it never will.
            self.transport.abortConnection()

    WebRequest.handle_reply = handle_reply


def _is_event_stream(request: Any) -> bool:
    content_type = request.responseHeaders.getRawHeaders(b"content-type") or [b""]
    return bool(content_type[0].startswith(b"text/event-stream"))


def install() -> None:
    """Apply the adjustments if this process is a daphne server; otherwise do nothing."""
    if "daphne.server" not in sys.modules:
        return
    allow_registered_close_codes()
    access_log_without_query_strings()
    fast_sends_and_slow_readers()
    lean_sockets()
    close_frames_instead_of_drops()
    close_sockets_on_shutdown()
    adopted_sockets_keep_their_family()
    event_streams_that_stop_reading_end()
