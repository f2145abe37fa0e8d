"""The guide's Python helpers, on the event log.

    from realtime.broadcast import broadcast_job_update, broadcast_scrape_event

    broadcast_job_update("new_job", {...})             # from sync code: returns the Event
    await broadcast_job_update("new_job", {...})       # from async code: awaitable

Both log the event (so it is resumable) and deliver it exactly like a model save would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from asgiref.sync import sync_to_async

from realtime import log
from realtime.events import JOB_EVENTS, SCRAPE_EVENTS
from realtime.models import Event


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _dispatch(event_type: str, data: dict[str, Any]) -> Event | Awaitable[Event]:
    if _in_event_loop():
        return sync_to_async(log.record)(event_type, data)
    return log.record(event_type, data)


def broadcast_job_update(event_type: str, data: dict[str, Any]) -> Event | Awaitable[Event]:
    if event_type not in JOB_EVENTS:
        raise ValueError(f"{event_type!r} is not a job event; use one of {sorted(JOB_EVENTS)}")
    return _dispatch(event_type, dict(data))


def broadcast_scrape_event(
    event_type: str, source: str, data: dict[str, Any] | None = None
) -> Event | Awaitable[Event]:
    if event_type not in SCRAPE_EVENTS:
        raise ValueError(
            f"{event_type!r} is not a scrape event; use one of {sorted(SCRAPE_EVENTS)}"
        )
    return _dispatch(event_type, {"source": source, **(data or {})})
