"""An event on its way from the hub to this process's clients, and its WebSocket frame.

The hub wraps each event once; every subscriber gets the same object. A socket's bytes on the
wire are the same for every socket (daphne sends unmasked, unfragmented, uncompressed frames),
so the frame is built once per event, the first time a socket asks for it, the way
`websockets.broadcast` does, instead of once per socket.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

# The ASGI scope extension under which a server that can (daphne, see
# `realtime.daphne_compat`, patch 9) gives a socket `{"write": write_frame}`, where
# `write_frame(frame: bytes) -> bool` writes a text frame to that socket at once (False: it
# cannot now; send the text through ASGI instead).
WRITE_FRAME_EXTENSION = "jobsentinel.write_frame"


def text_frame(text: str) -> bytes:
    """A final, unmasked text frame (server to client) carrying `text` (RFC 6455, 5.2)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x81, size)
    elif size < 65536:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    return header + payload


class LiveEvent:
    __slots__ = ("_frame", "id", "text", "type")

    def __init__(self, event_id: int, event_type: str, text: str) -> None:
        self.id = event_id
        self.type = event_type
        self.text = text  # the envelope, JSON-encoded once
        self._frame: bytes | None = None

    @property
    def frame(self) -> bytes:
        if self._frame is None:
            self._frame = text_frame(self.text)
        return self._frame

    def __repr__(self) -> str:
        return f"LiveEvent({self.id}, {self.type!r})"


def frame_writer(scope: dict[str, Any]) -> Callable[[bytes], bool] | None:
    """The socket's direct frame writer, if its server gives one."""
    extension = (scope.get("extensions") or {}).get(WRITE_FRAME_EXTENSION)
    return extension.get("write") if extension else None
