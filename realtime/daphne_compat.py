"""Two adjustments to daphne, applied when the app is loaded by daphne (see jobsentinel.asgi).

1. Registered close codes. daphne closes sockets through autobahn's `sendClose`, which only
   accepts 1000 and 3000-4999 and raises on anything else, so the socket ends with 1011 instead.
   RFC 6455 and the IANA registry let a server send 1009 (too big), 1012 (restart) and 1013
   (try again later); those go through autobahn's lower-level `sendCloseFrame`, which is what
   daphne itself uses for 1011.
2. Graceful restart. On SIGTERM/SIGINT daphne just drops every socket (clients see 1006 and
   cannot tell a restart from a crash). Before the reactor shuts down, every open socket is sent
   1012 "service restart", so clients reconnect promptly (with jitter) and resume.
"""

from __future__ import annotations

import logging
import sys
import weakref
from typing import Any

from realtime.events import CloseCode

logger = logging.getLogger(__name__)

SERVER_CLOSE_CODES = frozenset({1001, 1008, 1009, 1011, 1012, 1013, 1014})
# How long the reactor waits after the 1012 frames so they leave the socket buffers.
CLOSE_FLUSH_SECONDS = 0.3

_open_sockets: weakref.WeakSet[Any] = weakref.WeakSet()


def allow_registered_close_codes() -> None:
    from daphne.ws_protocol import WebSocketProtocol

    if getattr(WebSocketProtocol, "_jobsentinel_close_codes", False):
        return
    original = WebSocketProtocol.serverClose

    def server_close(self: Any, code: int | None = None) -> None:
        if code in SERVER_CLOSE_CODES:
            self.sendCloseFrame(code=code, isReply=False)
        else:
            original(self, code)

    WebSocketProtocol.serverClose = server_close
    WebSocketProtocol._jobsentinel_close_codes = True


def close_sockets_on_shutdown() -> None:
    from daphne.ws_protocol import WebSocketProtocol
    from twisted.internet import reactor as twisted_reactor
    from twisted.internet import task

    # zope interface methods confuse mypy about argument positions; the call is as documented.
    reactor: Any = twisted_reactor

    if getattr(WebSocketProtocol, "_jobsentinel_tracked", False):
        return
    original_open = WebSocketProtocol.onOpen

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


def install() -> None:
    """Apply both adjustments if this process is a daphne server; otherwise do nothing."""
    if "daphne.server" not in sys.modules:
        return
    allow_registered_close_codes()
    close_sockets_on_shutdown()
