"""What a client may ask of the event stream, checked once for every transport: the socket's
messages and query string, and the SSE stream's query string and Last-Event-ID header. A bad
value raises `RequestError`, which each transport answers in its own way."""

from __future__ import annotations

from typing import Any

from realtime.events import EVENT_TYPES, ErrorCode

MAX_EVENT_ID = 2**63 - 1  # the log's id column is a signed 64-bit integer


class RequestError(Exception):
    """A client message that is answered with an `error` and otherwise ignored."""

    def __init__(self, code: ErrorCode, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.extra = extra


def parse_events(value: Any) -> tuple[list[str], list[str]]:
    """The known event names (the client's order, repeats dropped) and the unknown ones.
    Unknown names are ignored as long as one name is known; only unknown → `unknown_event`."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RequestError(ErrorCode.INVALID_MESSAGE, "'events' must be a list of event names")
    names = list(dict.fromkeys(value))
    known = [name for name in names if name in EVENT_TYPES]
    # Echo a bounded amount of what the client sent, as text that can be sent (JSON may carry
    # a lone surrogate, which UTF-8 cannot encode).
    unknown = [
        name[:64].encode("utf-8", "replace").decode() for name in names if name not in EVENT_TYPES
    ][:10]
    if names and not known:
        raise RequestError(
            ErrorCode.UNKNOWN_EVENT,
            f"unknown event(s): {', '.join(unknown)}",
            unknown=unknown,
            valid=list(EVENT_TYPES),
        )
    return known, unknown


def parse_last_event_id(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)  # ASCII only: int() refuses some str.isdigit() digits, such as "²"
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_EVENT_ID:
        raise RequestError(
            ErrorCode.INVALID_MESSAGE, "'last_event_id' must be a non-negative integer"
        )
    return value
