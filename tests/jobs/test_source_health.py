"""Board health: last success and error, failures in a row, open jobs, and "gone dark" (a
board that had jobs answers 404 or empty twice in a row) without losing any job."""

from __future__ import annotations

import pytest

from jobs.models import JobStatus, ScrapeStatus, Source
from jobs.scraping import Scraper
from jobs.services import source_health_record
from tests.boards import BoardServer, greenhouse_job
from tests.factories import make_job, make_source

pytestmark = pytest.mark.django_db


def record(source: Source, status: str, found: int | None = None, **kw: object) -> Source:
    source_health_record(source=source, status=status, found=found, **kw)  # type: ignore[arg-type]
    return Source.objects.get(pk=source.pk)


def test_success_records_open_jobs_and_clears_the_error():
    source = make_source(last_error="old", consecutive_failures=3)
    make_job(source)
    make_job(source, status=JobStatus.CLOSED)
    source = record(source, ScrapeStatus.SUCCEEDED, found=1)
    assert source.last_success_at is not None
    assert (source.last_error, source.consecutive_failures, source.open_jobs) == ("", 0, 1)
    assert source.gone_dark is False


def test_failure_keeps_the_error_and_counts():
    source = make_source()
    source = record(source, ScrapeStatus.FAILED, error="GET x: HTTP 503 (3 attempts)")
    source = record(source, ScrapeStatus.FAILED, error="GET x: timed out")
    assert source.consecutive_failures == 2
    assert source.last_error == "GET x: timed out"
    assert source.last_failure_at is not None
    assert source.gone_dark is False  # errors that are not 404 say nothing about moving


def test_404_twice_with_jobs_goes_dark_and_keeps_the_jobs():
    source = make_source()
    job = make_job(source)
    source = record(source, ScrapeStatus.FAILED, error="HTTP 404", board_missing=True)
    assert source.gone_dark is False
    source = record(source, ScrapeStatus.FAILED, error="HTTP 404", board_missing=True)
    assert source.gone_dark is True
    job.refresh_from_db()
    assert job.status == JobStatus.OPEN
    assert source.open_jobs == 1


def test_empty_twice_goes_dark_and_a_board_with_jobs_again_recovers():
    source = make_source()
    make_job(source)
    source = record(source, ScrapeStatus.SUCCEEDED, found=0)
    source = record(source, ScrapeStatus.SUCCEEDED, found=0)
    assert source.gone_dark is True
    source = record(source, ScrapeStatus.SUCCEEDED, found=5)
    assert (source.gone_dark, source.dark_fetches) == (False, 0)


def test_a_board_that_never_had_jobs_does_not_go_dark():
    source = make_source()
    for _ in range(3):
        source = record(source, ScrapeStatus.FAILED, error="HTTP 404", board_missing=True)
    assert source.gone_dark is False


def test_an_other_error_between_breaks_the_streak():
    source = make_source()
    make_job(source)
    source = record(source, ScrapeStatus.FAILED, error="404", board_missing=True)
    source = record(source, ScrapeStatus.FAILED, error="503")
    source = record(source, ScrapeStatus.FAILED, error="404", board_missing=True)
    assert source.gone_dark is False


def test_interrupted_changes_nothing():
    source = make_source(consecutive_failures=1)
    source = record(source, ScrapeStatus.INTERRUPTED)
    assert source.consecutive_failures == 1


@pytest.mark.django_db(transaction=True)
def test_real_scrapes_of_a_board_that_disappears(board_server: BoardServer):
    board_server.board.jobs["acme"] = [greenhouse_job(1, "Engineer"), greenhouse_job(2, "PM")]
    source = make_source(kind="greenhouse", token="acme", api_url=board_server.url)
    with Scraper() as scraper:
        assert scraper.run(source).ok
        source.refresh_from_db()
        assert (source.open_jobs, source.gone_dark) == (2, False)
        del board_server.board.jobs["acme"]  # the board now answers 404
        scraper.run(source)
        scraper.run(source)
    source.refresh_from_db()
    assert source.gone_dark is True
    assert "404" in source.last_error
    assert source.consecutive_failures == 2
    assert source.jobs.filter(status=JobStatus.OPEN).count() == 2
