"""Let daphne send the registered close codes the protocol uses (1009, 1012, 1013).

daphne closes sockets through autobahn's `sendClose`, which only accepts 1000 and 3000-4999 and
raises on anything else, so the socket ends with 1011 instead. RFC 6455 and the IANA registry
allow a server to send 1009 (too big), 1012 (restart) and 1013 (try again later); we send those
through autobahn's lower-level `sendCloseFrame`, which is what daphne itself uses for 1011.
"""

from __future__ import annotations

from typing import Any

SERVER_CLOSE_CODES = frozenset({1001, 1008, 1009, 1011, 1012, 1013, 1014})


def allow_registered_close_codes() -> None:
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:  # not running under daphne
        return
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
