"""Ingest of hostile postings: one bad job is skipped and counted while the rest of its board
is kept (SQLite and PostgreSQL alike), fields are capped, invisible characters are stripped,
and the open duplicate of a closed original is shown again."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client

from jobs.models import Job, JobStatus, ScrapeStatus
from jobs.postings import Posting
from jobs.sanitize import DESCRIPTION_MAX_CHARS
from jobs.services import ingest_postings, scrape_run_finish, scrape_run_start
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


def good_board(*bad: Posting) -> list[Posting]:
    return [posting(1), *bad, posting(3)]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (posting(2, posted_at=datetime(1, 1, 1, tzinfo=UTC)), "posted_at 0001-01-01 out of range"),
        (posting(2, posted_at=datetime(9999, 12, 31, tzinfo=UTC)), "posted_at 9999-12-31"),
        (posting(2, posted_at=datetime(2026, 1, 1)), "posted_at has no time zone"),
        (posting(2, external_id="x" * 201), "id longer than 200 characters"),
        (posting(2, url="https://boards.example/" + "a" * 1000), "URL longer than 1000"),
        (posting(2, title="\u200b\u202e\x00 "), "empty title"),
    ],
)
def test_a_bad_job_is_skipped_and_counted_and_the_board_kept(bad: Posting, reason: str) -> None:
    source = make_source()
    run = scrape_run_start(source=source)

    result = ingest_postings(source=source, postings=good_board(bad), complete=True, now=NOW)
    scrape_run_finish(run=run, status=ScrapeStatus.SUCCEEDED, result=result)

    assert sorted(Job.objects.filter(source=source).values_list("external_id", flat=True)) == [
        "1",
        "3",
    ]
    assert (result.found, result.new, len(result.skipped)) == (3, 2, 1)
    run.refresh_from_db()
    assert run.status == ScrapeStatus.SUCCEEDED
    assert run.errors == 1
    assert run.error_message.startswith("1 job skipped; first: job ")
    assert reason in run.error_message
    completed = Event.objects.filter(type="scrape_completed").latest("id")
    assert completed.data["errors"] == 1
    assert reason in completed.data["error_message"]


def test_nul_anywhere_is_removed_not_fatal() -> None:
    """PostgreSQL refuses NUL in text (psycopg raises before the query is sent); SQLite would
    store it. Either way it never reaches the database."""
    source = make_source()
    nul = posting(
        2,
        external_id="2\x00",
        title="Back\x00end Engineer",
        company="Ac\x00me",
        description_html="<p>Py\x00thon</p>",
        apply_url="https://boards.example/apply\x00",
        location="Re\x00mote",
    )

    result = ingest_postings(source=source, postings=good_board(nul), complete=True, now=NOW)

    assert (result.new, result.skipped) == (3, [])
    job = Job.objects.get(source=source, external_id="2")
    assert (job.title, job.company, job.location) == ("Backend Engineer", "Acme", "Remote")
    assert "\x00" not in job.description_html + job.description_text + job.apply_url


def test_lone_surrogates_become_replacement_characters() -> None:
    source = make_source()
    odd = posting(2, title="Engineer \ud800", description_html="<p>\udfff</p>")

    result = ingest_postings(source=source, postings=good_board(odd), complete=True, now=NOW)

    assert result.skipped == []
    job = Job.objects.get(source=source, external_id="2")
    assert job.title == "Engineer \ufffd"
    assert "\ufffd" in job.description_html


def test_a_value_the_database_refuses_is_the_last_line_skip(monkeypatch) -> None:
    """A value that passes the checks but that the database refuses (here: a salary range the
    check constraint forbids, forced past the swap) costs only its own job."""
    import jobs.services

    source = make_source()
    real = jobs.services.posting_fields

    def swapped_salary(p: Posting, prefs, *, now):
        values = real(p, prefs, now=now)
        if p.external_id == "2":
            values["salary_min"], values["salary_max"] = 200, 100
        return values

    monkeypatch.setattr(jobs.services, "posting_fields", swapped_salary)

    result = ingest_postings(source=source, postings=good_board(posting(2)), complete=True)

    assert result.skipped == ["job '2': refused by the database"]
    assert sorted(Job.objects.filter(source=source).values_list("external_id", flat=True)) == [
        "1",
        "3",
    ]
    # The skipped job's savepoint took its event with it.
    assert Event.objects.filter(type="new_job").count() == 2


def test_a_skipped_job_still_on_the_board_is_not_closed() -> None:
    source = make_source()
    ingest_postings(source=source, postings=[posting(1), posting(2)], complete=True, now=NOW)
    broken = posting(2, posted_at=datetime(1, 1, 1, tzinfo=UTC), title="Changed")

    for _ in range(3):
        result = ingest_postings(
            source=source, postings=[posting(1), broken], complete=True, now=NOW
        )
        assert len(result.skipped) == 1

    job = Job.objects.get(source=source, external_id="2")
    assert (job.status, job.title) == (JobStatus.OPEN, "Backend Engineer 2")


def test_parser_skips_are_counted_too() -> None:
    source = make_source()
    run = scrape_run_start(source=source)

    result = ingest_postings(
        source=source,
        postings=[posting(1)],
        complete=True,
        now=NOW,
        skipped=["job #4: 'title' is missing or empty"],
    )
    scrape_run_finish(run=run, status=ScrapeStatus.SUCCEEDED, result=result)

    run.refresh_from_db()
    assert run.errors == 1
    assert run.error_message == "1 job skipped; first: job #4: 'title' is missing or empty"


# --- caps and invisible characters ---------------------------------------------------------


def test_one_line_fields_lose_bidi_controls_and_zero_width_characters() -> None:
    source = make_source()
    invisible = (
        "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
        "\u200b\u200c\u200d\u2060\ufeff"
    )
    spoof = posting(
        1,
        title=f"Senior\u202e reenignE{invisible}",
        company=f"Ac\u200bme{invisible}",
        location=f"\u2066Berlin\u2069{invisible}",
        department=f"Eng\u200dineering{invisible}",
        employment_type=f"Full\ufefftime\x1b[31m{invisible}",
    )

    ingest_postings(source=source, postings=[spoof], complete=True, now=NOW)

    job = Job.objects.get(source=source)
    assert job.title == "Senior reenignE"
    assert (job.company, job.location, job.department) == ("Acme", "Berlin", "Engineering")
    assert job.employment_type == "Fulltime[31m"  # the ESC control is gone too
    new_job = Event.objects.get(type="new_job")
    assert new_job.data["title"] == "Senior reenignE"


def test_a_huge_description_is_capped_and_the_feed_stays_fast() -> None:
    source = make_source()
    paragraph = "<p>" + "Python and Django at scale. " * 40 + "</p>"
    huge = paragraph * (5 * 1024 * 1024 // len(paragraph))  # 5 MB of HTML
    ingest_postings(
        source=source,
        postings=[posting(n, description_html=huge) for n in range(1, 4)],
        complete=True,
        now=NOW,
    )

    for job in Job.objects.filter(source=source):
        assert len(job.description_html) <= DESCRIPTION_MAX_CHARS
        assert len(job.description_text) <= DESCRIPTION_MAX_CHARS
        assert job.description_html.endswith("</p>")  # a cut is closed properly
    client = Client()
    client.get("/")  # templates compiled, connections open
    started = time.monotonic()
    response = client.get("/")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    # What the page carries per job is bounded by the caps, not by what the board sent.
    assert len(response.content) < 3 * (2 * DESCRIPTION_MAX_CHARS) + 200_000, len(response.content)
    print(f"GET / with three capped 5 MB descriptions: {elapsed * 1000:.0f} ms")


def test_over_long_one_line_fields_are_cut_to_their_columns() -> None:
    source = make_source()
    long = posting(
        1,
        title="T" * 900,
        company="C" * 900,
        location="L" * 900,
        department="D" * 900,
        employment_type="E" * 900,
        apply_url="https://boards.example/" + "a" * 2000,
        salary_currency="DOLLARS",
        workplace="moon",
        salary_interval="fortnight",
    )

    result = ingest_postings(source=source, postings=[long], complete=True, now=NOW)

    assert result.skipped == []
    job = Job.objects.get(source=source)
    lengths = [len(job.title), len(job.company), len(job.location), len(job.department)]
    assert lengths == [500, 200, 500, 200]
    assert len(job.employment_type) == 100
    assert (job.apply_url, job.salary_currency) == ("", "")
    assert (job.workplace, job.salary_interval) == ("unknown", "")


# --- duplicates -----------------------------------------------------------------------------


def test_the_open_duplicate_of_a_closed_original_is_shown_again() -> None:
    board = make_source(name="Acme")
    feed = make_source(kind="remotive", token="all")
    other = make_source(kind="lever", token="acme-lever")
    ingest_postings(source=board, postings=[posting(1), posting(2)], complete=True, now=NOW)
    same = {"company": "ACME", "title": "Backend Engineer 1"}
    ingest_postings(source=feed, postings=[posting(77, **same)], complete=False, now=NOW)
    ingest_postings(source=other, postings=[posting(88, **same)], complete=True, now=NOW)
    original = Job.objects.get(source=board, external_id="1")
    copy = Job.objects.get(source=feed)
    third = Job.objects.get(source=other)
    assert copy.duplicate_of == original
    assert third.duplicate_of == original
    mark = Event.objects.latest("id").id

    for _ in range(2):  # two complete fetches without it close the original
        ingest_postings(source=board, postings=[posting(2)], complete=True, now=NOW)

    original.refresh_from_db()
    copy.refresh_from_db()
    third.refresh_from_db()
    assert original.status == JobStatus.CLOSED
    assert copy.duplicate_of is None  # the oldest duplicate is shown again
    assert third.duplicate_of == copy  # the other one stays hidden, now behind the shown one
    assert copy in Job.objects.for_feed()
    assert third not in Job.objects.for_feed()
    updates = [e.data for e in Event.objects.filter(id__gt=mark, type="job_updated").order_by("id")]
    assert [(u["job_id"], u["changes"]) for u in updates] == [
        (original.pk, ["status"]),
        (copy.pk, ["duplicate_of"]),
    ]
    assert updates[1]["job"]["title"] == "Backend Engineer 1"


def test_runs_on_both_databases() -> None:
    # This module runs in both modes of the suite; say which one this run proved.
    assert connection.vendor in ("sqlite", "postgresql")
