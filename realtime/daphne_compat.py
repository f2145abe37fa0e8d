"""Adjustments to daphne, applied when the app is loaded by daphne (see jobsentinel.asgi).

1. Registered close codes. daphne closes sockets through autobahn's `sendClose`, which only
   accepts 1000 and 3000-4999 and raises on anything else, so the socket ends with 1011 instead.
   RFC 6455 and the IANA registry let a server send 1009 (too big), 1012 (restart) and 1013
   (try again later); those go through autobahn's lower-level `sendCloseFrame`, which is what
   daphne itself uses for 1011.
2. Slow readers. daphne writes everything a socket is sent into its transport buffer, which
   grows without limit when a client stops reading. A socket with more than
   `JOBSENTINEL_WS_MAX_BACKLOG_BYTES` waiting for `SLOW_READER_SECONDS`, or with
   `HARD_BACKLOG_FACTOR` times that at any moment, is sent 4408 and cut off shortly after, so
   one stuck client can neither grow the server's memory nor hold the others back. (A healthy
   reader can go past the limit for a moment during a burst; it is not punished for that.)
3. Access log without query strings. daphne logs the full URI of HTTP requests, so a key sent
   as `?api_key=` (say to the socket URL through a proxy that drops the Upgrade header) would
   land in the log. Paths are logged without their query string.
4. One frame per event, not per socket. The hub hands every subscriber the same text object;
   its WebSocket frame (unmasked, unfragmented, uncompressed: all daphne ever sends) is built
   once and the same bytes are written to each socket, the way `websockets.broadcast` does,
   instead of autobahn framing (and debug-formatting) it again for every socket.
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
"""

from __future__ import annotations

import functools
import logging
import struct
import sys
import time
import weakref
from typing import Any

from realtime.events import CloseCode

logger = logging.getLogger(__name__)

SERVER_CLOSE_CODES = frozenset({1001, 1008, 1009, 1011, 1012, 1013, 1014})
# How long the reactor waits after the 1012 frames so they leave the socket buffers.
CLOSE_FLUSH_SECONDS = 0.3
# A slow reader gets this long to take its close frame before the connection is cut.
SLOW_READER_GRACE_SECONDS = 2.0
SLOW_READER_SECONDS = 5.0
HARD_BACKLOG_FACTOR = 8

_open_sockets: weakref.WeakSet[Any] = weakref.WeakSet()


def allow_registered_close_codes() -> None:
    from daphne.ws_protocol import WebSocketProtocol

    if getattr(WebSocketProtocol, "_jobsentinel_close_codes", False):
        return
    original = WebSocketProtocol.serverClose

    @functools.wraps(original)
    def server_close(self: Any, code: int | None = None) -> None:
        if code in SERVER_CLOSE_CODES:
            self.sendCloseFrame(code=code, isReply=False)
        else:
            original(self, code)

    WebSocketProtocol.serverClose = server_close
    WebSocketProtocol._jobsentinel_close_codes = True


def _pending_bytes(transport: Any) -> int:
    """Bytes written to a Twisted TCP transport that the kernel has not taken yet."""
    try:
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    except AttributeError:  # not a plain TCP transport (tests, TLS wrappers): no limit applied
        return 0


_last_frame: tuple[str, bytes] | None = None


def text_frame(text: str) -> bytes:
    """A final, unmasked text frame (server to client) for `text`; the last one is cached, so
    one event fanned out to many sockets is framed once."""
    global _last_frame
    if _last_frame is not None and _last_frame[0] is text:
        return _last_frame[1]
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x81, size)
    elif size < 65536:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    frame = header + payload
    _last_frame = (text, frame)
    return frame


def fast_sends_and_slow_readers() -> None:
    from daphne.ws_protocol import WebSocketProtocol
    from django.conf import settings
    from twisted.internet import reactor as twisted_reactor

    if getattr(WebSocketProtocol, "_jobsentinel_backlog", False):
        return
    reactor: Any = twisted_reactor
    original_send = WebSocketProtocol.serverSend

    def too_slow(self: Any) -> bool:
        """True (and the socket on its way out) when this client stopped reading."""
        if getattr(self, "_jobsentinel_too_slow", False):
            return True
        pending = _pending_bytes(self.transport)
        limit = settings.WS_MAX_BACKLOG_BYTES
        now = time.monotonic()
        if pending <= limit:
            self._jobsentinel_over_since = None
            return False
        if getattr(self, "_jobsentinel_over_since", None) is None:
            self._jobsentinel_over_since = now
        stuck = now - self._jobsentinel_over_since > SLOW_READER_SECONDS
        if not stuck and pending <= limit * HARD_BACKLOG_FACTOR:
            return False
        self._jobsentinel_too_slow = True
        logger.info("closing a socket that stopped reading (%d bytes waiting)", pending)
        self.sendCloseFrame(code=int(CloseCode.TOO_SLOW), isReply=False)
        reactor.callLater(SLOW_READER_GRACE_SECONDS, self.transport.abortConnection)
        return True

    @functools.wraps(original_send)
    def server_send(self: Any, content: Any, binary: bool = False) -> None:
        if self.state in (self.STATE_CLOSING, self.STATE_CLOSED):
            return  # the peer is leaving: nothing sent now could reach it
        if too_slow(self):
            return
        if (
            binary
            or not isinstance(content, str)
            or self.state != self.STATE_OPEN
            or self.send_state != self.SEND_STATE_GROUND
            or self.send_queue
            or self._perMessageCompress is not None
        ):
            original_send(self, content, binary)  # anything unusual: autobahn's own path
            return
        self.transport.write(text_frame(content))

    WebSocketProtocol.serverSend = server_send
    WebSocketProtocol._jobsentinel_backlog = True


def close_frames_instead_of_drops() -> None:
    from daphne.ws_protocol import WebSocketFactory

    if getattr(WebSocketFactory, "_jobsentinel_no_drop", False):
        return
    original_init = WebSocketFactory.__init__

    @functools.wraps(original_init)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        # daphne later sets its own options with setProtocolOptions, which keeps this one.
        self.setProtocolOptions(failByDrop=False)

    WebSocketFactory.__init__ = init
    WebSocketFactory._jobsentinel_no_drop = True


def close_sockets_on_shutdown() -> None:
    from daphne.ws_protocol import WebSocketProtocol
    from twisted.internet import reactor as twisted_reactor
    from twisted.internet import task

    # zope interface methods confuse mypy about argument positions; the call is as documented.
    reactor: Any = twisted_reactor

    if getattr(WebSocketProtocol, "_jobsentinel_tracked", False):
        return
    original_open = WebSocketProtocol.onOpen

    @functools.wraps(original_open)
    def on_open(self: Any) -> None:
        _open_sockets.add(self)
        original_open(self)

    WebSocketProtocol.onOpen = on_open
    WebSocketProtocol._jobsentinel_tracked = True

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

    if getattr(AccessLogGenerator, "_jobsentinel_no_query", False):
        return
    original = AccessLogGenerator.__call__

    @functools.wraps(original)
    def log(self: Any, protocol: str, action: str, details: dict[str, Any]) -> None:
        path = details.get("path")
        if isinstance(path, str) and "?" in path:
            details = {**details, "path": path.split("?", 1)[0]}
        original(self, protocol, action, details)

    AccessLogGenerator.__call__ = log
    AccessLogGenerator._jobsentinel_no_query = True


def adopted_sockets_keep_their_family() -> None:
    import socket

    from twisted.internet import endpoints
    from twisted.plugins import fd_endpoint

    # Twisted's own types would have it that methods are never replaced: this is the point.
    parser_class: Any = fd_endpoint._FDParser
    if getattr(parser_class, "_jobsentinel_family", False):
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
    parser_class._jobsentinel_family = True


def install() -> None:
    """Apply the adjustments if this process is a daphne server; otherwise do nothing."""
    if "daphne.server" not in sys.modules:
        return
    allow_registered_close_codes()
    access_log_without_query_strings()
    fast_sends_and_slow_readers()
    close_frames_instead_of_drops()
    close_sockets_on_shutdown()
    adopted_sockets_keep_their_family()
