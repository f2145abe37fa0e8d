"""The guide's helpers: callable from sync and async code, through the same log."""

from __future__ import annotations

import pytest

from realtime.broadcast import broadcast_job_update, broadcast_scrape_event
from realtime.models import Event


@pytest.mark.django_db
def test_sync_call_logs_and_returns_the_event() -> None:
    event = broadcast_job_update("new_job", {"job_id": 123, "title": "Senior Backend Engineer"})
    assert isinstance(event, Event)
    assert Event.objects.get(pk=event.pk).data == {
        "job_id": 123,
        "title": "Senior Backend Engineer",
    }


@pytest.mark.django_db(transaction=True)
async def test_async_call_is_awaitable() -> None:
    pending = broadcast_scrape_event(
        "scrape_completed", source="greenhouse", data={"jobs_found": 42, "new_jobs": 10}
    )
    # Inside an event loop the helper returns an awaitable (the guide's `await broadcast_...`).
    assert not isinstance(pending, Event)
    event = await pending
    assert event.type == "scrape_completed"
    assert event.data == {"source": "greenhouse", "jobs_found": 42, "new_jobs": 10}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: broadcast_job_update("scrape_started", {}), "not a job event"),
        (lambda: broadcast_scrape_event("new_job", "greenhouse"), "not a scrape event"),
    ],
)
def test_wrong_event_type_is_refused(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
