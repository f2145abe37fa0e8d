"""The record step and the guide's helpers: `await broadcast_job_update(...)` as the guide
shows it, a `_sync` twin for sync code, each returning the logged Event, delivered like a save."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from jobsentinel.asgi import application
from realtime import record as record_module
from realtime.models import Event
from realtime.record import (
    broadcast_job_update,
    broadcast_job_update_sync,
    broadcast_scrape_event,
    broadcast_scrape_event_sync,
)

WAIT = 5  # generous for a loaded 2-core CI box


@pytest.mark.django_db
def test_sync_twin_logs_and_returns_the_event() -> None:
    event = broadcast_job_update_sync("new_job", {"job_id": 123, "title": "Senior Engineer"})
    assert isinstance(event, Event)
    assert Event.objects.get(pk=event.pk).data == {"job_id": 123, "title": "Senior Engineer"}
    run = broadcast_scrape_event_sync("scrape_started", "lever", {"expected_duration": 30})
    assert (run.type, run.data) == ("scrape_started", {"source": "lever", "expected_duration": 30})


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("stop_relay")
async def test_awaited_helper_logs_and_reaches_a_socket() -> None:
    if settings.REDIS_URL:
        from realtime.publish import publisher

        await sync_to_async(publisher().flush)()
    comm = WebsocketCommunicator(application, "/api/v1/ws/jobs?events=scrape_completed")
    try:
        connected, _ = await comm.connect(timeout=WAIT)
        assert connected
        assert (await comm.receive_json_from(timeout=WAIT))["type"] == "connected"
        event = await broadcast_scrape_event(
            "scrape_completed", source="greenhouse", data={"jobs_found": 42, "new_jobs": 10}
        )
        assert isinstance(event, Event)
        assert event.data == {"source": "greenhouse", "jobs_found": 42, "new_jobs": 10}
        message = await comm.receive_json_from(timeout=WAIT)
        assert (message["type"], message["id"]) == ("scrape_completed", event.id)
        assert message["data"]["jobs_found"] == 42
        job_event = await broadcast_job_update("new_job", {"job_id": 7})
        assert await sync_to_async(Event.objects.filter(pk=job_event.pk).exists)()
    finally:
        await comm.disconnect()


@pytest.mark.parametrize(
    "helper",
    [broadcast_job_update, broadcast_job_update_sync, broadcast_scrape_event,
     broadcast_scrape_event_sync],
)  # fmt: skip
def test_each_helper_has_one_return_type(helper: Callable[..., Any]) -> None:
    hints = typing.get_type_hints(helper, vars(record_module))
    assert hints["return"] is Event
    assert inspect.iscoroutinefunction(helper) == (not helper.__name__.endswith("_sync"))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: broadcast_job_update_sync("scrape_started", {}), "not a job event"),
        (lambda: broadcast_scrape_event_sync("new_job", "greenhouse"), "not a scrape event"),
    ],
)
def test_wrong_event_type_is_refused(call: Callable[[], Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


async def test_wrong_event_type_is_refused_when_awaited() -> None:
    with pytest.raises(ValueError, match="not a job event"):
        await broadcast_job_update("scrape_started", {})
    with pytest.raises(ValueError, match="not a scrape event"):
        await broadcast_scrape_event("new_job", "greenhouse")
