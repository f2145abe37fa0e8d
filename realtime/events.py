"""One place for the protocol's vocabulary: event types, message types, error codes, close
codes, and the envelope every server message uses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Any


class EventType(StrEnum):
    """Events that are logged, resumable and delivered through per-type groups."""

    NEW_JOB = "new_job"
    JOB_UPDATED = "job_updated"
    SCRAPE_STARTED = "scrape_started"
    SCRAPE_COMPLETED = "scrape_completed"
    # Many scores changed at once (preferences edited): refresh rather than one event per job.
    JOBS_RESCORED = "jobs_rescored"


EVENT_TYPES: tuple[str, ...] = tuple(e.value for e in EventType)
JOB_EVENTS = frozenset({EventType.NEW_JOB, EventType.JOB_UPDATED, EventType.JOBS_RESCORED})
SCRAPE_EVENTS = frozenset({EventType.SCRAPE_STARTED, EventType.SCRAPE_COMPLETED})


class ServerMessage(StrEnum):
    """Messages the server sends that are not logged events."""

    CONNECTED = "connected"
    SUBSCRIBED = "subscribed"
    PONG = "pong"
    HEARTBEAT = "heartbeat"
    ERROR = "error"


class ClientMessage(StrEnum):
    PING = "ping"
    SUBSCRIBE = "subscribe"


CLIENT_MESSAGE_TYPES: tuple[str, ...] = tuple(m.value for m in ClientMessage)


class ErrorCode(StrEnum):
    INVALID_JSON = "invalid_json"
    INVALID_MESSAGE = "invalid_message"
    UNKNOWN_TYPE = "unknown_type"
    UNKNOWN_EVENT = "unknown_event"
    RATE_LIMITED = "rate_limited"
    MESSAGE_TOO_LARGE = "message_too_large"
    RESUME_EXPIRED = "resume_expired"
    UNAUTHORIZED = "unauthorized"
    OVER_CAPACITY = "over_capacity"
    UNAVAILABLE = "unavailable"


class CloseCode(IntEnum):
    INTERNAL = 1011
    SERVER_RESTART = 1012
    MESSAGE_TOO_BIG = 1009
    OVER_CAPACITY = 1013
    UNAUTHORIZED = 4401
    RATE_LIMIT_EXCEEDED = 4429
    TOO_SLOW = 4408


# The channel-layer message type that carries a pre-encoded event to consumers.
PUSH_MESSAGE_TYPE = "event.push"


def group_name(event_type: str) -> str:
    """The channel-layer group for one event type: a consumer joins only what it wants."""
    return f"events.{event_type}"


def iso_timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 in UTC with a trailing Z, as the guide shows."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def envelope(
    message_type: str,
    data: dict[str, Any],
    *,
    timestamp: datetime | None = None,
    event_id: int | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": message_type,
        "timestamp": iso_timestamp(timestamp),
        "data": data,
    }
    if event_id is not None:
        message["id"] = event_id
    return message


def encode(message: dict[str, Any]) -> str:
    """Compact JSON. Called once per event, never once per socket."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, default=str)


def error_message(code: ErrorCode, message: str, **extra: Any) -> str:
    # ASCII-escaped: an error may echo what a client sent, and JSON may carry a lone surrogate
    # (\ud800) that is valid JSON but cannot be written out as UTF-8.
    data = {"code": code.value, "message": message, **extra}
    return json.dumps(envelope(ServerMessage.ERROR, data), separators=(",", ":"), default=str)
