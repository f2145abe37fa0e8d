"""`manage.py worker` as a real process: the schedule, "scrape now" through the queue, leases
of runs whose worker died, clean stops."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from jobs.models import Job, ScrapeRun, ScrapeStatus, Source
from jobs.services import ABANDONED_MESSAGE
from realtime.models import Event
from tests.boards import BoardServer, greenhouse_job
from tests.factories import make_source
from tests.workers import Worker

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until(
    condition: Callable[[], bool],
    what: str,
    timeout: float = 60.0,
    logs: Callable[[], str] = lambda: "",
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting: {what}\n{logs()}"
        time.sleep(0.1)


def finished(run_id: int) -> ScrapeRun:
    wait_until(
        lambda: ScrapeRun.objects.filter(pk=run_id).exclude(status="running").exists(),
        f"run {run_id} to finish",
    )
    return ScrapeRun.objects.get(pk=run_id)


@pytest.fixture
def acme(board_server: BoardServer) -> Source:
    board_server.board.jobs["acme"] = [greenhouse_job(1, "Backend Engineer")]
    return make_source(token="acme", api_url=board_server.url)


def test_the_worker_scrapes_due_sources_once_per_interval_and_stops_cleanly(
    worker_factory: Callable[..., Worker], acme: Source, board_server: BoardServer
) -> None:
    Source.objects.filter(pk=acme.pk).update(scrape_interval=3600)
    worker = worker_factory()
    assert "queue " in worker.log()
    assert ("on Redis" if "REDIS_URL" in worker.env else "in SQLite") in worker.log()
    wait_until(lambda: ScrapeRun.objects.filter(status="succeeded").exists(), "a scheduled run")
    assert Job.objects.filter(source=acme).count() == 1
    time.sleep(3)  # six more sweeps: the source is not due again for an hour
    assert ScrapeRun.objects.count() == 1
    assert len(board_server.board.requests) == 1
    assert worker.stop(signal.SIGTERM) == 0
    assert "worker stopped" in worker.log()
    assert not ScrapeRun.objects.filter(status="interrupted").exists()  # idle: nothing made up


def test_a_disabled_source_is_not_scheduled(
    worker_factory: Callable[..., Worker], acme: Source, board_server: BoardServer
) -> None:
    Source.objects.filter(pk=acme.pk).update(enabled=False)
    other = make_source(token="other", api_url=board_server.url)
    board_server.board.jobs["other"] = [greenhouse_job(9, "Data Engineer")]
    worker_factory()
    wait_until(lambda: ScrapeRun.objects.filter(source=other).exists(), "the enabled source")
    time.sleep(1.5)
    assert not ScrapeRun.objects.filter(source=acme).exists()


def test_scrape_now_from_the_api_goes_through_the_queue(
    worker_factory: Callable[..., Worker], acme: Source, board_server: BoardServer
) -> None:
    board_server.board.delay = 0.5
    Source.objects.filter(pk=acme.pk).update(scrape_interval=3600)
    api = APIClient()
    # No worker yet: the run is answered at once and waits in the queue.
    response = api.post(f"/api/v1/sources/{acme.pk}/scrape/")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "running"
    assert api.post(f"/api/v1/sources/{acme.pk}/scrape/").status_code == 409
    time.sleep(1)
    assert ScrapeRun.objects.get(pk=body["id"]).status == "running"
    assert not board_server.board.requests  # nothing scraped inside the web process
    worker_factory("--no-schedule")
    run = finished(body["id"])
    assert (run.status, run.new_jobs) == ("succeeded", 1)
    assert ScrapeRun.objects.count() == 1
    types = Event.objects.filter(type__startswith="scrape").values_list("type", flat=True)
    assert list(types) == ["scrape_started", "scrape_completed"]


def test_scrape_now_from_the_admin_goes_through_the_queue(
    worker_factory: Callable[..., Worker], acme: Source
) -> None:
    worker_factory("--no-schedule")
    user = User.objects.create_superuser("admin", "admin@example.com", "pw-123456-x")
    client = Client()
    client.force_login(user)
    response = client.post(
        reverse("admin:jobs_source_changelist"),
        {"action": "scrape_now", "_selected_action": [acme.pk]},
    )
    assert response.status_code == 302
    run = finished(ScrapeRun.objects.get(source=acme).pk)
    assert (run.status, run.new_jobs) == ("succeeded", 1)


def test_a_killed_workers_run_is_closed_and_the_source_scraped_again(
    worker_factory: Callable[..., Worker], acme: Source, board_server: BoardServer
) -> None:
    board_server.board.delay = 300  # the first scrape hangs at the board
    first = worker_factory()
    wait_until(lambda: bool(board_server.board.requests), "the first fetch")
    run = ScrapeRun.objects.get()
    first.stop(signal.SIGKILL)
    killed_at = time.monotonic()
    board_server.board.delay = 0
    second = worker_factory()  # the replacement (lease 3 s, sweeps every 0.5 s)
    closed = finished(run.pk)
    took = time.monotonic() - killed_at
    assert closed.status == ScrapeStatus.INTERRUPTED
    assert closed.error_message == ABANDONED_MESSAGE
    assert took < 60, took
    print(f"killed worker's run closed {took:.1f} s after the kill (lease 3 s)")
    wait_until(
        lambda: ScrapeRun.objects.filter(source=acme, status="succeeded").exists(),
        "the source scraped again",
        timeout=120,
        logs=lambda: f"{list(ScrapeRun.objects.values_list('id', 'status'))}\n{second.log()}",
    )
    assert Job.objects.filter(source=acme).count() == 1
    completed = Event.objects.filter(type="scrape_completed", data__run_id=run.pk)
    assert completed.count() == 1  # closed once, though every sweep looks


def test_sigterm_during_a_scrape_ends_it_as_interrupted(
    worker_factory: Callable[..., Worker], acme: Source, board_server: BoardServer
) -> None:
    board_server.board.delay = 300
    worker = worker_factory()
    wait_until(lambda: bool(board_server.board.requests), "the fetch")
    assert worker.stop(signal.SIGTERM, timeout=60) == 0
    run = ScrapeRun.objects.get()
    assert run.status == ScrapeStatus.INTERRUPTED
    assert run.error_message.startswith("worker stopped")
