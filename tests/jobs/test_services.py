"""Ingest: new, changed, unchanged, closed, reopened, user fields, duplicates; rescoring."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs.models import Job, JobStatus, Preferences, ScrapeRun, ScrapeStatus
from jobs.postings import Posting
from jobs.services import (
    ingest_postings,
    preferences_update,
    scrape_run_finish,
    scrape_run_start,
)
from realtime.models import Event
from tests.factories import make_source

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def posting(n: int, **fields: object) -> Posting:
    base = Posting(
        external_id=str(n),
        title=f"Backend Engineer {n}",
        company="Acme",
        url=f"https://boards.example/acme/{n}",
        location="Remote",
        workplace="remote",
        description_html="<p>Python and Django</p>",
        posted_at=NOW - timedelta(days=1),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def events(after: int = 0) -> list[Event]:
    return list(Event.objects.filter(id__gt=after).order_by("id"))


def latest_event_id() -> int:
    last = Event.objects.order_by("-id").first()
    return last.id if last else 0


def test_first_ingest_creates_jobs_and_announces_each() -> None:
    source = make_source()
    result = ingest_postings(
        source=source, postings=[posting(1), posting(2)], complete=True, now=NOW
    )
    assert (result.found, result.new, result.updated, result.closed) == (2, 2, 0, 0)
    assert Job.objects.filter(source=source).count() == 2
    assert [e.type for e in events()] == ["new_job", "new_job"]
    job = Job.objects.get(external_id="1")
    assert job.description_text == "Python and Django"
    assert job.content_hash
    assert job.fingerprint
    assert 0 < job.score <= 1
    assert job.score_reasons


def test_unchanged_reingest_writes_no_job_and_sends_nothing() -> None:
    source = make_source()
    ingest_postings(source=source, postings=[posting(1), posting(2)], complete=True, now=NOW)
    mark = latest_event_id()
    later = NOW + timedelta(hours=1)
    with CaptureQueriesContext(connection) as queries:
        result = ingest_postings(
            source=source, postings=[posting(1), posting(2)], complete=True, now=later
        )
    assert (result.new, result.updated, result.unchanged) == (0, 0, 2)
    assert events(mark) == []
    writes = [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
    ]
    assert len(writes) == 1  # the one bulk last_seen bump
    assert set(Job.objects.values_list("last_seen", flat=True)) == {later}


def test_changed_job_is_saved_with_exactly_the_changed_fields() -> None:
    source = make_source()
    ingest_postings(source=source, postings=[posting(1)], complete=True, now=NOW)
    mark = latest_event_id()
    changed = posting(
        1,
        title="Staff Backend Engineer 1",
        salary_min=Decimal(150000),
        salary_max=Decimal(180000),
        salary_currency="USD",
        salary_interval="year",
    )
    result = ingest_postings(source=source, postings=[changed], complete=True, now=NOW)
    assert result.updated == 1
    [event] = events(mark)
    assert event.type == "job_updated"
    assert "title" in event.data["changes"]
    assert "salary" in event.data["changes"]
    assert "description" not in event.data["changes"]
    assert "location" not in event.data["changes"]


def test_user_fields_survive_a_changed_scrape() -> None:
    source = make_source()
    ingest_postings(source=source, postings=[posting(1)], complete=True, now=NOW)
    job = Job.objects.get(external_id="1")
    job.hidden, job.starred, job.notes, job.application_status = True, True, "call back", "applied"
    job.save()
    ingest_postings(source=source, postings=[posting(1, title="Renamed")], complete=True, now=NOW)
    job = Job.objects.get(external_id="1")
    assert job.title == "Renamed"
    assert (job.hidden, job.starred, job.notes, job.application_status) == (
        True,
        True,
        "call back",
        "applied",
    )


def test_job_closes_after_two_complete_misses_and_reopens() -> None:
    source = make_source()
    ingest_postings(source=source, postings=[posting(1), posting(2)], complete=True, now=NOW)
    first = ingest_postings(source=source, postings=[posting(1)], complete=True, now=NOW)
    assert first.closed == 0
    assert Job.objects.get(external_id="2").status == JobStatus.OPEN
    mark = latest_event_id()
    second = ingest_postings(source=source, postings=[posting(1)], complete=True, now=NOW)
    assert second.closed == 1
    gone = Job.objects.get(external_id="2")
    assert gone.status == JobStatus.CLOSED
    assert gone.closed_at == NOW
    [event] = events(mark)
    assert event.data["changes"] == ["status"]
    assert event.data["job"]["status"] == "closed"

    back = ingest_postings(source=source, postings=[posting(1), posting(2)], complete=True, now=NOW)
    assert back.reopened == 1
    reopened = Job.objects.get(external_id="2")
    assert reopened.status == JobStatus.OPEN
    assert reopened.closed_at is None


def test_a_single_miss_is_forgiven_when_the_job_comes_back() -> None:
    source = make_source()
    ingest_postings(source=source, postings=[posting(1), posting(2)], complete=True, now=NOW)
    ingest_postings(source=source, postings=[posting(1)], complete=True, now=NOW)
    ingest_postings(source=source, postings=[posting(1), posting(2)], complete=True, now=NOW)
    ingest_postings(source=source, postings=[posting(1)], complete=True, now=NOW)
    assert Job.objects.get(external_id="2").status == JobStatus.OPEN


def test_empty_complete_fetch_closes_nothing() -> None:
    source = make_source()
    ingest_postings(source=source, postings=[posting(1)], complete=True, now=NOW)
    for _ in range(3):
        ingest_postings(source=source, postings=[], complete=True, now=NOW)
    assert Job.objects.get(external_id="1").status == JobStatus.OPEN


def test_feed_jobs_expire_by_age_not_by_absence() -> None:
    source = make_source(kind="remotive", token="software-dev")
    ingest_postings(source=source, postings=[posting(1), posting(2)], complete=False, now=NOW)
    ingest_postings(source=source, postings=[posting(1)], complete=False, now=NOW)
    ingest_postings(source=source, postings=[posting(1)], complete=False, now=NOW)
    assert Job.objects.get(external_id="2").status == JobStatus.OPEN
    result = ingest_postings(
        source=source, postings=[posting(1)], complete=False, now=NOW + timedelta(days=31)
    )
    assert result.closed == 1
    assert Job.objects.get(external_id="2").status == JobStatus.CLOSED


def test_same_job_on_two_sources_is_shown_once() -> None:
    board = make_source(name="Acme")
    feed = make_source(kind="remotive", token="all")
    ingest_postings(
        source=board, postings=[posting(1, company="Acme, Inc.")], complete=True, now=NOW
    )
    mark = latest_event_id()
    result = ingest_postings(
        source=feed,
        postings=[posting(77, company="ACME", title="Backend Engineer 1")],
        complete=False,
        now=NOW,
    )
    assert result.duplicates == 1
    copy = Job.objects.get(source=feed)
    assert copy.duplicate_of == Job.objects.get(source=board)
    assert list(Job.objects.for_feed()) == [copy.duplicate_of]
    assert events(mark) == []  # not announced twice


def test_description_html_is_sanitized() -> None:
    source = make_source()
    evil = (
        '<p onclick="x()">Hi</p><script>alert(1)</script>'
        '<img src="https://tracker.example/p.gif"><a href="javascript:alert(1)">x</a>'
    )
    ingest_postings(
        source=source, postings=[posting(1, description_html=evil)], complete=True, now=NOW
    )
    job = Job.objects.get()
    assert "<script" not in job.description_html
    assert "onclick" not in job.description_html
    assert "<img" not in job.description_html
    assert "javascript:" not in job.description_html
    assert "alert(1)" not in job.description_text


def test_over_long_fields_are_trimmed_not_fatal() -> None:
    source = make_source()
    ingest_postings(source=source, postings=[posting(1, title="T" * 900)], complete=True, now=NOW)
    assert len(Job.objects.get().title) == 500


def test_scrape_run_start_estimates_and_finish_counts() -> None:
    source = make_source()
    first = scrape_run_start(source=source)
    assert first.expected_duration_seconds is None
    ScrapeRun.objects.filter(pk=first.pk).update(status=ScrapeStatus.SUCCEEDED, duration_seconds=10)
    second = scrape_run_start(source=source)
    assert second.expected_duration_seconds == 10
    result = ingest_postings(source=source, postings=[posting(1)], complete=True, now=NOW)
    mark = latest_event_id()
    scrape_run_finish(run=second, status=ScrapeStatus.SUCCEEDED, result=result)
    [event] = events(mark)
    assert event.type == "scrape_completed"
    assert event.data["jobs_found"] == 1
    assert event.data["new_jobs"] == 1
    assert event.data["errors"] == 0
    source.refresh_from_db()
    assert source.last_success_at is not None


def test_failed_run_keeps_its_error_and_counts_failures() -> None:
    source = make_source()
    run = scrape_run_start(source=source)
    scrape_run_finish(run=run, status=ScrapeStatus.FAILED, error="board not found")
    run.refresh_from_db()
    assert (run.status, run.errors, run.error_message) == ("failed", 1, "board not found")
    source.refresh_from_db()
    assert source.consecutive_failures == 1


def test_preferences_change_rescores_with_one_event_not_thousands() -> None:
    source = make_source()
    ingest_postings(
        source=source, postings=[posting(n) for n in range(1, 41)], complete=True, now=NOW
    )
    mark = latest_event_id()
    _, changed = preferences_update(denied_companies=["acme"])
    assert changed == 40
    assert set(Job.objects.values_list("score", flat=True)) == {0.0}
    assert Job.objects.earliest("id").score_reasons[0]["rule"] == "denied_company"
    assert [(e.type, e.data) for e in events(mark)] == [("jobs_rescored", {"changed": 40})]
    _, again = preferences_update(denied_companies=["acme"])
    assert again == 0
    assert Preferences.load().denied_companies == ["acme"]


def test_absurd_salaries_are_dropped_not_fatal() -> None:
    source = make_source()
    typo = posting(
        1, salary_min=Decimal("1E+15"), salary_max=Decimal(200000), salary_currency="USD"
    )
    swapped = posting(2, salary_min=Decimal(200000), salary_max=Decimal(100000))
    ingest_postings(source=source, postings=[typo, swapped], complete=True, now=NOW)
    first, second = Job.objects.order_by("external_id")
    assert (first.salary_min, first.salary_max) == (None, Decimal(200000))
    assert (second.salary_min, second.salary_max) == (Decimal(100000), Decimal(200000))


def test_a_second_run_of_a_busy_source_is_refused() -> None:
    from jobs.services import SourceBusy

    source = make_source()
    scrape_run_start(source=source)
    with pytest.raises(SourceBusy, match="already being scraped"):
        scrape_run_start(source=source)


# --- user edits through the services ------------------------------------------------------------


def test_job_update_saves_and_announces_only_what_changed() -> None:
    from jobs.services import job_update
    from tests.factories import make_job

    job = make_job(starred=False, notes="")
    before = Event.objects.count()
    assert job_update(job=job, values={"starred": True, "notes": "", "hidden": False}) == [
        "starred"
    ]
    job.refresh_from_db()
    assert job.starred
    [event] = Event.objects.filter(id__gt=0).order_by("-id")[:1]
    assert Event.objects.count() == before + 1
    assert event.data["changes"] == ["starred"]
    assert job_update(job=job, values={"starred": True}) == []  # nothing changed: no event
    assert Event.objects.count() == before + 1


def test_job_update_refuses_fields_a_scrape_owns() -> None:
    from jobs.services import job_update
    from tests.factories import make_job

    job = make_job(title="Engineer")
    with pytest.raises(ValueError, match="title"):
        job_update(job=job, values={"title": "Boss", "starred": True})
    job.refresh_from_db()
    assert (job.title, job.starred) == ("Engineer", False)  # nothing written


def test_source_update_writes_only_its_columns() -> None:
    from jobs.models import Source
    from jobs.services import SourceRefused, source_update

    source = make_source(name="Acme")
    stale = Source.objects.get(pk=source.pk)
    # A scrape finishing meanwhile records the board's health on the same row.
    Source.objects.filter(pk=source.pk).update(consecutive_failures=3)
    source_update(source=stale, values={"name": "Acme Corp"})
    source.refresh_from_db()
    assert (source.name, source.consecutive_failures) == ("Acme Corp", 3)
    with pytest.raises(SourceRefused):
        source_update(source=stale, values={"api_url": "https://user:secret@example.com"})
