"""Record: the first step of delivery. An event is appended to the event log inside the
caller's transaction, so it exists if and only if the write that caused it committed; its
publishing is arranged for after the commit (`realtime.publish`).

Model saves reach `record` through the post_save receivers (`realtime.signals`). Code that
announces something itself uses the guide's helpers, awaited from async code as the guide
shows them, or their `_sync` twins from sync code:

    from realtime.record import broadcast_job_update, broadcast_job_update_sync

    event = await broadcast_job_update("new_job", {"job_id": 123, ...})
    event = broadcast_job_update_sync("new_job", {"job_id": 123, ...})

Each returns the logged `Event`; clients get it live and on resume, exactly like a save's.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction

from realtime.events import EVENT_TYPES, JOB_EVENTS, SCRAPE_EVENTS
from realtime.models import Event
from realtime.publish import publish_on_commit


def record(event_type: str, data: dict[str, Any]) -> Event:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}; known: {', '.join(EVENT_TYPES)}")
    # No savepoint: an ingest records thousands of events inside one transaction.
    with transaction.atomic(savepoint=False):
        event = Event.objects.create(type=event_type, data=data)
        publish_on_commit(event)
    return event


def _job_event(event_type: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if event_type not in JOB_EVENTS:
        raise ValueError(f"{event_type!r} is not a job event; use one of {sorted(JOB_EVENTS)}")
    return event_type, dict(data)


def _scrape_event(
    event_type: str, source: str, data: dict[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    if event_type not in SCRAPE_EVENTS:
        raise ValueError(
            f"{event_type!r} is not a scrape event; use one of {sorted(SCRAPE_EVENTS)}"
        )
    return event_type, {"source": source, **(data or {})}


def broadcast_job_update_sync(event_type: str, data: dict[str, Any]) -> Event:
    """Log and deliver a job event (`new_job`, `job_updated`, `jobs_rescored`)."""
    return record(*_job_event(event_type, data))


async def broadcast_job_update(event_type: str, data: dict[str, Any]) -> Event:
    """`broadcast_job_update_sync` for async code (the ORM runs in a worker thread)."""
    return await sync_to_async(record)(*_job_event(event_type, data))


def broadcast_scrape_event_sync(
    event_type: str, source: str, data: dict[str, Any] | None = None
) -> Event:
    """Log and deliver a scrape event (`scrape_started`, `scrape_completed`) of board kind
    `source` (e.g. "greenhouse")."""
    return record(*_scrape_event(event_type, source, data))


async def broadcast_scrape_event(
    event_type: str, source: str, data: dict[str, Any] | None = None
) -> Event:
    """`broadcast_scrape_event_sync` for async code."""
    return await sync_to_async(record)(*_scrape_event(event_type, source, data))
