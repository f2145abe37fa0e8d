"""Scraping a board that did not change: the cheap path (values read, one bookkeeping write,
no missing-jobs query) does exactly what comparing every job did. Real scrapes of a local
board, through the `Scraper` that `manage.py scrape` and the worker use."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

import jobs.scraping
import jobs.services
from jobs.models import Job, JobStatus, Preferences, ScrapeRun, Source
from jobs.postings import Posting
from jobs.scoring import ScoringPrefs, score_posting
from jobs.scrapers import HttpClient
from jobs.scraping import Scraper
from jobs.services import ingest_postings, job_as_posting, preferences_update
from realtime.models import Event
from tests.boards import BoardServer, greenhouse_job
from tests.factories import make_source

pytestmark = pytest.mark.django_db

BOOKKEEPING = {"last_seen", "missed_fetches"}


def unpaced() -> HttpClient:
    return HttpClient(pace_seconds=0)  # the same board twice in a row, without waiting


@pytest.fixture
def scraper() -> Iterator[Scraper]:
    with Scraper(client_factory=unpaced) as scraper:
        yield scraper


@pytest.fixture
def board(board_server: BoardServer) -> Source:
    board_server.board.jobs["acme"] = [
        greenhouse_job(1, "Backend Engineer"),
        greenhouse_job(2, "Data Engineer", location="Berlin"),
        greenhouse_job(3, "Product Manager"),
    ]
    return make_source(kind="greenhouse", token="acme", api_url=board_server.url)


def rows(source: Source) -> dict[str, dict[str, Any]]:
    return {job.external_id: model_to_dict(job) for job in source.jobs.order_by("id")}


def last_event_id() -> int:
    last = Event.objects.order_by("-id").first()
    return last.id if last else 0


def events_after(mark: int) -> list[Event]:
    return list(Event.objects.filter(id__gt=mark).order_by("id"))


def job_statements(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if '"jobs_job"' in q["sql"]]


def test_an_unchanged_board_rewrites_no_job_and_announces_only_its_run(
    scraper: Scraper, board: Source
) -> None:
    assert scraper.run(board).ok
    before = rows(board)
    mark = last_event_id()

    with CaptureQueriesContext(connection) as queries:
        outcome = scraper.run(board)

    assert outcome.ok
    after = rows(board)
    assert after.keys() == before.keys()
    for external_id, row in after.items():
        assert row["last_seen"] > before[external_id]["last_seen"]  # seen again
        assert row["missed_fetches"] == 0
        unchanged = {k: v for k, v in row.items() if k not in BOOKKEEPING}
        assert unchanged == {k: v for k, v in before[external_id].items() if k not in BOOKKEEPING}
    # The board's jobs read once, as values; one bulk write of the bookkeeping; nothing else
    # on the jobs table (no per-job write, no missing-jobs query, no count).
    statements = job_statements(queries)
    assert len(statements) == 2, statements
    assert statements[0].startswith("SELECT")
    assert statements[1].startswith('UPDATE "jobs_job" SET "last_seen"')
    [started, completed] = events_after(mark)
    assert (started.type, completed.type) == ("scrape_started", "scrape_completed")
    assert started.data["run_id"] == completed.data["run_id"] == outcome.run.pk  # type: ignore[union-attr]
    assert {k: completed.data[k] for k in ("status", "jobs_found", "new_jobs", "updated_jobs",
                                           "closed_jobs", "errors")} == {
        "status": "succeeded", "jobs_found": 3, "new_jobs": 0, "updated_jobs": 0,
        "closed_jobs": 0, "errors": 0,
    }  # fmt: skip
    board.refresh_from_db()
    assert (board.open_jobs, board.consecutive_failures, board.last_error) == (3, 0, "")


def test_changed_preferences_rescore_the_jobs_of_an_unchanged_board(
    scraper: Scraper, board: Source
) -> None:
    assert scraper.run(board).ok
    scores = dict(board.jobs.values_list("external_id", "score"))

    _, changed = preferences_update(title_keywords=["product manager"])
    assert scraper.run(board).ok  # the board did not change

    prefs = ScoringPrefs.from_model(Preferences.load())
    now = datetime.now(tz=UTC)
    for job in board.jobs.all():
        expected = score_posting(job_as_posting(job), prefs, now=now).score
        assert job.score == pytest.approx(expected, abs=1e-3)
    rescored = dict(board.jobs.values_list("external_id", "score"))
    assert changed >= 1
    assert rescored != scores  # the new preferences moved scores, and the scrape kept them


def test_a_board_changed_by_one_job_updates_that_job_only(
    scraper: Scraper, board: Source, board_server: BoardServer
) -> None:
    assert scraper.run(board).ok
    before = rows(board)
    mark = last_event_id()
    board_server.board.jobs["acme"][1] = greenhouse_job(2, "Senior Data Engineer", "Berlin")

    outcome = scraper.run(board)

    assert outcome.result is not None
    assert (outcome.result.updated, outcome.result.unchanged) == (1, 2)
    after = rows(board)
    assert after["2"]["title"] == "Senior Data Engineer"
    for external_id in ("1", "3"):
        assert {k: v for k, v in after[external_id].items() if k not in BOOKKEEPING} == {
            k: v for k, v in before[external_id].items() if k not in BOOKKEEPING
        }
    types = [(e.type, e.data.get("job_id"), e.data.get("changes")) for e in events_after(mark)]
    job_id = Job.objects.get(source=board, external_id="2").pk
    assert types == [
        ("scrape_started", None, None),
        ("job_updated", job_id, ["title"]),
        ("scrape_completed", None, None),
    ]


def test_a_job_gone_from_a_board_closes_after_two_scrapes_and_health_counts_it(
    scraper: Scraper, board: Source, board_server: BoardServer
) -> None:
    assert scraper.run(board).ok
    del board_server.board.jobs["acme"][2]  # job 3 is gone

    first = scraper.run(board)
    gone = Job.objects.get(source=board, external_id="3")
    assert (gone.status, gone.missed_fetches) == (JobStatus.OPEN, 1)
    assert first.result is not None
    assert first.result.closed == 0
    second = scraper.run(board)
    gone.refresh_from_db()
    assert gone.status == JobStatus.CLOSED
    assert second.result is not None
    assert second.result.closed == 1
    board.refresh_from_db()
    assert board.open_jobs == 2
    assert ScrapeRun.objects.filter(source=board).order_by("-id")[0].closed_jobs == 1

    board_server.board.jobs["acme"].append(greenhouse_job(3, "Product Manager"))
    back = scraper.run(board)
    assert back.result is not None
    assert back.result.reopened == 1
    board.refresh_from_db()
    assert board.open_jobs == 3


# --- the open-jobs count an ingest hands to the board's health ---------------------------------

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def posting(n: int, **fields: Any) -> Posting:
    base = Posting(
        external_id=str(n), title=f"Engineer {n}", company="Acme",
        url=f"https://boards.example/acme/{n}", location="Remote",
    )  # fmt: skip
    return replace(base, **fields)


def open_count(source: Source) -> int:
    return source.jobs.filter(status=JobStatus.OPEN).count()


def test_the_open_jobs_an_ingest_counts_are_those_in_the_database() -> None:
    source = make_source()
    other = make_source()
    steps: list[tuple[list[Posting], bool, datetime]] = [
        ([posting(1), posting(2), posting(3)], True, NOW),  # all new
        ([posting(1), posting(2, title="Renamed")], True, NOW),  # one changed, one missed
        ([posting(1)], True, NOW),  # 2 missed once, 3 closed
        ([posting(1), posting(3), posting(4)], True, NOW),  # 3 back, 4 new, 2 missed
        ([posting(1), posting(3)], True, NOW),  # 2 closed, 4 missed
        ([], True, NOW),  # an empty complete fetch closes nothing
        ([posting(5)], False, NOW + timedelta(days=31)),  # a feed: the old ones expire
    ]
    ingest_postings(source=other, postings=[posting(5)], complete=True, now=NOW)  # a duplicate
    for postings, complete, now in steps:
        result = ingest_postings(source=source, postings=postings, complete=complete, now=now)
        assert result.open_jobs == open_count(source), (postings, result)
    assert open_count(source) == 1  # the steps reached closing, reopening and expiry


def test_the_open_jobs_count_leaves_out_a_job_the_database_refused(monkeypatch) -> None:
    source = make_source()
    ingest_postings(source=source, postings=[posting(1)], complete=True, now=NOW)
    real = jobs.services.posting_fields

    def refused_for_two(p: Posting, prefs: ScoringPrefs, *, now: datetime) -> dict[str, Any]:
        values = real(p, prefs, now=now)
        if p.external_id == "2":
            values["salary_min"], values["salary_max"] = 200, 100  # the check refuses it
        return values

    monkeypatch.setattr(jobs.services, "posting_fields", refused_for_two)
    result = ingest_postings(
        source=source, postings=[posting(1), posting(2)], complete=True, now=NOW
    )
    assert result.skipped == ["job '2': refused by the database"]
    assert result.open_jobs == open_count(source) == 1


# --- fetches do not wait for ingests ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_finished_fetch_gives_its_slot_to_the_next_board_before_it_is_ingested(
    monkeypatch,
) -> None:
    """One board at a time: the second board's request reaches its host while the first board
    is still being ingested (the ingest waits for it, up to a bound, and says if it came)."""
    with BoardServer() as one, BoardServer() as two:
        for server, token in ((one, "one"), (two, "two")):
            server.board.jobs[token] = [greenhouse_job(1, "Engineer")]
        first = make_source(token="one", api_url=one.url)
        second = make_source(token="two", api_url=two.url)
        seen_during_ingest: list[bool] = []
        real_ingest = jobs.scraping.ingest_postings
        arrived = threading.Event()

        class Watched(list[str]):
            def append(self, path: str) -> None:
                super().append(path)
                arrived.set()

        two.board.requests = Watched()

        def ingest(*, source: Source, **kwargs: Any) -> Any:
            if source.pk == first.pk:
                seen_during_ingest.append(arrived.wait(timeout=10))
            return real_ingest(source=source, **kwargs)

        monkeypatch.setattr(jobs.scraping, "ingest_postings", ingest)
        with Scraper(concurrency=1, client_factory=unpaced) as scraper:
            outcomes = list(scraper.run_many([first, second]))
    assert [outcome.ok for outcome in outcomes] == [True, True]
    assert seen_during_ingest == [True]
