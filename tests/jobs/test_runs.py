"""Run leases, the busy rule, the sweep's services, and the concurrent cycle."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from jobs.models import ScrapeRun, ScrapeStatus, Source
from jobs.scraping import Scraper
from jobs.services import (
    ABANDONED_MESSAGE,
    SourceBusy,
    running_run_id,
    scrape_run_start,
    scrape_runs_reap,
    scrape_runs_renew,
    source_is_due,
    sources_due,
)
from jobs.tasks import Sweeper
from realtime.models import Event
from tests.boards import BoardServer, greenhouse_job
from tests.factories import make_source


def expire(run: ScrapeRun) -> None:
    ScrapeRun.objects.filter(pk=run.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )


@pytest.mark.django_db
class TestLeases:
    def test_a_live_run_holds_its_source(self) -> None:
        source = make_source()
        run = scrape_run_start(source=source)
        assert run.lease_expires_at is not None
        assert run.lease_expires_at > timezone.now()
        assert running_run_id(source) == run.pk
        with pytest.raises(SourceBusy, match="already being scraped"):
            scrape_run_start(source=source)

    def test_an_expired_lease_frees_the_source_and_its_run_is_closed_once(self) -> None:
        source = make_source()
        dead = scrape_run_start(source=source)
        expire(dead)
        assert running_run_id(source) is None
        fresh = scrape_run_start(source=source)
        dead.refresh_from_db()
        assert (dead.status, dead.error_message) == (ScrapeStatus.INTERRUPTED, ABANDONED_MESSAGE)
        assert fresh.status == ScrapeStatus.RUNNING
        assert scrape_runs_reap() == []  # already closed: never a second scrape_completed
        completed = Event.objects.filter(type="scrape_completed")
        assert [e.data["run_id"] for e in completed] == [dead.pk]
        assert completed.get().data["status"] == "interrupted"

    def test_the_reaper_closes_expired_runs_only(self) -> None:
        live = scrape_run_start(source=make_source())
        dead = scrape_run_start(source=make_source())
        legacy = ScrapeRun.objects.create(source=make_source())  # from before leases: no lease
        expire(dead)
        closed = {run.pk for run in scrape_runs_reap()}
        assert closed == {dead.pk, legacy.pk}
        assert ScrapeRun.objects.get(pk=live.pk).status == ScrapeStatus.RUNNING
        assert scrape_runs_reap() == []

    def test_renewal_extends_running_runs_only(self) -> None:
        running = scrape_run_start(source=make_source())
        expire(running)
        done = scrape_run_start(source=make_source())
        ScrapeRun.objects.filter(pk=done.pk).update(status=ScrapeStatus.SUCCEEDED)
        assert scrape_runs_renew(run_ids=[running.pk, done.pk]) == 1
        running.refresh_from_db()
        assert running.lease_expires_at is not None
        assert running.lease_expires_at > timezone.now()

    def test_a_queued_run_gets_more_patience(self, settings) -> None:
        settings.RUN_LEASE_SECONDS = 60
        run = scrape_run_start(source=make_source(), queued=True)
        assert run.lease_expires_at is not None
        assert run.lease_expires_at - run.started_at >= timedelta(seconds=299)


@pytest.mark.django_db
class TestDue:
    def test_due_sources_and_their_order(self, settings) -> None:
        settings.SCRAPE_INTERVAL = 600
        now = timezone.now()
        never = make_source()
        recent = make_source()
        old = make_source()
        own_interval = make_source(scrape_interval=60)
        interrupted = make_source()
        make_source(enabled=False)
        for source, minutes, status in [
            (recent, 1, ScrapeStatus.SUCCEEDED),
            (old, 20, ScrapeStatus.FAILED),
            (own_interval, 2, ScrapeStatus.SUCCEEDED),
            (interrupted, 1, ScrapeStatus.INTERRUPTED),
        ]:
            ScrapeRun.objects.create(
                source=source, status=status, started_at=now - timedelta(minutes=minutes)
            )
        due = sources_due(now=now)
        assert due[:2] == [never, interrupted]  # never scraped (successfully or not) first
        assert set(due[2:]) == {old, own_interval}
        assert due[2] == old  # then the longest waiting
        assert not source_is_due(recent, now=now)
        assert source_is_due(own_interval, now=now)

    def test_a_sweep_does_not_queue_a_source_again_at_once(self) -> None:
        source = make_source()
        sweeper = Sweeper(enqueue=False)
        sweeper.schedule()
        first = dict(sweeper._queued)
        sweeper.schedule()
        assert sweeper._queued == first
        assert set(first) == {source.pk}


# --- the concurrent cycle ----------------------------------------------------------------------


class CountingBoard(BoardServer):
    """A board serving a few one-job boards, answering each request after `delay` s."""

    def __init__(self, delay: float, prefix: str = "b") -> None:
        super().__init__()
        self.board.delay = delay
        self.board.jobs = {f"{prefix}{i}": [greenhouse_job(i, f"Engineer {i}")] for i in range(4)}


@pytest.mark.django_db(transaction=True)
def test_sources_on_different_hosts_are_fetched_at_once_and_one_host_one_at_a_time(
    monkeypatch,
) -> None:
    in_flight: dict[str, int] = {}
    peak: dict[str, int] = {}
    overall = {"now": 0, "peak": 0}
    guard = threading.Lock()

    import http.server

    original = http.server.BaseHTTPRequestHandler.handle_one_request

    def counting(handler) -> None:
        port = str(handler.server.server_address[1])
        with guard:
            in_flight[port] = in_flight.get(port, 0) + 1
            peak[port] = max(peak.get(port, 0), in_flight[port])
            overall["now"] += 1
            overall["peak"] = max(overall["peak"], overall["now"])
        try:
            original(handler)
        finally:
            with guard:
                in_flight[port] -= 1
                overall["now"] -= 1

    monkeypatch.setattr(http.server.BaseHTTPRequestHandler, "handle_one_request", counting)
    boards = [CountingBoard(delay=1.0, prefix=f"h{k}s").__enter__() for k in range(10)]
    try:
        sources = [
            make_source(token=f"h{k}s{i}", api_url=board.url)
            for k, board in enumerate(boards)
            for i in range(2)  # two sources per host
        ]
        with Scraper(concurrency=8, client_factory=lambda: _fast_client()) as scraper:
            outcomes = list(scraper.run_many(Source.objects.filter(pk__in=[s.pk for s in sources])))
    finally:
        for board in boards:
            board.__exit__()
    assert len(outcomes) == 20
    assert all(outcome.ok for outcome in outcomes)
    assert ScrapeRun.objects.filter(status="succeeded").count() == 20
    assert overall["peak"] == 8  # bounded, and used to the full
    assert max(peak.values()) == 1  # never two requests to one host at once


def _fast_client():
    from jobs.scrapers import HttpClient

    return HttpClient(pace_seconds=0.05)


@pytest.mark.django_db(transaction=True)
def test_the_pace_of_one_host_holds_across_threads() -> None:
    """Two threads scraping two sources on one host through the process's engine: their
    requests are spaced by the pace, as if one thread had made them."""
    with CountingBoard(delay=0) as board:
        sources = [make_source(token=f"b{i}", api_url=board.url) for i in range(2)]
        from jobs.scraping import FetchEngine

        engine = FetchEngine(concurrency=8, client_factory=lambda: _paced_client(1.0))
        stamps: list[float] = []

        class Stamped(list[str]):
            def append(self, path: str) -> None:
                stamps.append(time.monotonic())
                super().append(path)

        board.board.requests = Stamped()

        def scrape(source: Source) -> None:
            try:
                Scraper(engine=engine).run(source)
            finally:
                connection.close()  # this thread's own

        try:
            threads = [threading.Thread(target=scrape, args=(source,)) for source in sources]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        finally:
            engine.close()
    assert len(stamps) == 2
    assert stamps[1] - stamps[0] >= 0.9  # the pace (1 s), less clock slack


def _paced_client(pace: float):
    from jobs.scrapers import HttpClient

    return HttpClient(pace_seconds=pace)
