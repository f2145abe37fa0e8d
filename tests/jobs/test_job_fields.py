"""One declaration of the job fields users care about (`jobs.job_fields`), and saves that say
what they changed: `job_updated.changes` is the diff the write itself computed, whichever way
in the write came, and a write that cannot say what it changed fails instead of lying."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.admin.sites import site
from django.test import Client, RequestFactory
from django.urls import reverse

from jobs import job_fields
from jobs.job_fields import BOARD_FIELDS, PUBLIC_NAMES, TRACKED_FIELDS, USER_FIELDS
from jobs.models import Job, ScrapeRun, UnsaidChange
from jobs.postings import Posting
from jobs.scoring import ScoringPrefs
from jobs.services import job_as_posting, posting_fields, rescore_jobs
from realtime.models import Event
from tests.factories import make_job, make_source

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


# --- the declaration ------------------------------------------------------------------------


def test_a_posting_carries_exactly_the_board_fields() -> None:
    names = [f.name for f in dataclasses.fields(Posting)]
    assert names[0] == "external_id"
    assert set(names[1:]) == set(BOARD_FIELDS)


def test_every_declared_field_is_a_job_column_and_tracked() -> None:
    # A foreign key is tracked by its column (duplicate_of_id): reading it costs no query.
    columns = {f.attname for f in Job._meta.concrete_fields}
    assert set(TRACKED_FIELDS) <= columns
    assert Job.TRACKED_FIELDS is job_fields.TRACKED_FIELDS
    assert len(set(TRACKED_FIELDS)) == len(TRACKED_FIELDS)


def test_ingest_never_writes_user_fields_and_rescoring_reads_the_board_fields() -> None:
    posting = Posting("1", "Engineer", "Acme", "https://x.example/1", salary_min=Decimal(5))
    written = posting_fields(posting, ScoringPrefs(), now=NOW)
    assert not set(written) & set(USER_FIELDS)
    assert set(BOARD_FIELDS) <= set(written)
    job = Job(external_id="1", **{name: getattr(posting, name) for name in BOARD_FIELDS})
    assert job_as_posting(job) == posting


def test_public_names_group_columns_and_drop_bookkeeping() -> None:
    assert job_fields.public_changes(["salary_min", "salary_interval", "title"]) == [
        "salary",
        "title",
    ]
    assert job_fields.public_changes(["description_html", "description_text"]) == ["description"]
    assert job_fields.public_changes(["content_hash", "last_seen", "fingerprint"]) == []
    assert PUBLIC_NAMES["closed_at"] == "status"


# --- saves say what they changed ------------------------------------------------------------


def updates_since(mark: int) -> list[dict[str, Any]]:
    rows = Event.objects.filter(id__gt=mark, type="job_updated").order_by("id")
    return [row.data for row in rows]


def mark() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.mark.django_db
def test_update_fields_names_what_is_written_not_what_changed() -> None:
    job = make_job(score=0.5, notes="")
    start = mark()
    job.notes = "call back"
    # `score` is listed but unchanged: it is written, and not announced.
    job.save(update_fields=["notes", "score", "last_seen"])
    assert [e["changes"] for e in updates_since(start)] == [["notes"]]


@pytest.mark.django_db
def test_a_full_save_announces_its_diff_and_a_repeat_announces_nothing() -> None:
    job = Job.objects.get(pk=make_job().pk)
    start = mark()
    job.title, job.salary_max = "Staff Engineer", Decimal(100)
    job.save()
    job.save()
    assert [e["changes"] for e in updates_since(start)] == [["salary", "title"]]


@pytest.mark.django_db
def test_a_job_that_was_never_loaded_cannot_be_saved_without_naming_its_fields() -> None:
    existing = make_job(title="Engineer")
    start = mark()
    stranger = Job(pk=existing.pk, source=existing.source, external_id="x", title="Hacked")
    with pytest.raises(UnsaidChange, match="cannot tell what changed"):
        stranger.save()
    assert Job.objects.get(pk=existing.pk).title == "Engineer"
    assert updates_since(start) == []
    # Naming the fields is saying what changed.
    stranger.save(update_fields=["title"])
    assert [e["changes"] for e in updates_since(start)] == [["title"]]


@pytest.mark.django_db
def test_refresh_and_deferred_loads_do_not_invent_changes() -> None:
    job = Job.objects.get(pk=make_job(title="Engineer").pk)
    Job.objects.filter(pk=job.pk).update(last_seen=NOW)  # bookkeeping: allowed in bulk
    other = Job.objects.get(pk=job.pk)
    other.title = "Lead"
    other.save()
    start = mark()
    job.refresh_from_db()
    job.notes = "seen"
    job.save()
    assert [e["changes"] for e in updates_since(start)] == [["notes"]]

    start = mark()
    partial = Job.objects.only("id", "notes").get(pk=job.pk)
    partial.notes = "again"
    partial.save()  # Django writes the loaded fields only; the title is read lazily, unchanged
    assert partial.title == "Lead"
    assert [e["changes"] for e in updates_since(start)] == [["notes"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("write", "fields"),
    [
        (lambda qs: qs.update(title="x"), "title"),
        (lambda qs: qs.update(hidden=True, last_seen=NOW), "hidden"),
        (lambda qs: Job.objects.bulk_update(list(qs), ["score"]), "score"),
    ],
)
def test_bulk_writes_of_tracked_fields_are_refused(write: Any, fields: str) -> None:
    job = make_job(title="Engineer", score=0.5)
    with pytest.raises(UnsaidChange, match=fields):
        write(Job.objects.filter(pk=job.pk))
    job.refresh_from_db()
    assert (job.title, job.hidden, job.score) == ("Engineer", False, 0.5)


@pytest.mark.django_db
def test_rescoring_announces_once_and_leaves_no_stale_snapshot() -> None:
    job = make_job(title="Python Engineer", score=0.0)
    from jobs.models import Preferences

    prefs = Preferences.load()
    prefs.title_keywords = ["python"]
    prefs.save()
    start = mark()
    assert rescore_jobs(now=NOW) == 1
    assert list(Event.objects.filter(id__gt=start).values_list("type", flat=True)) == [
        "jobs_rescored"
    ]
    loaded = Job.objects.get(pk=job.pk)
    loaded.notes = "x"
    loaded.save()
    assert [e["changes"] for e in updates_since(start)] == [["notes"]]


@pytest.mark.django_db
def test_scrape_run_completion_is_the_status_change_itself() -> None:
    run = ScrapeRun.objects.create(source=make_source())
    start = mark()
    run.jobs_found = 3
    run.save()  # still running: nothing to announce
    run.status = "succeeded"
    run.save(update_fields=["status", "jobs_found"])
    run.save(update_fields=["status"])  # no change the second time
    kinds = list(Event.objects.filter(id__gt=start).values_list("type", flat=True))
    assert kinds == ["scrape_completed"]


# --- every way in ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_change_form_announces_what_the_user_edited(
    admin_client: Client, admin_user: Any, rf: RequestFactory
) -> None:
    job = make_job(title="Engineer", notes="")
    url = reverse("admin:jobs_job_change", args=[job.pk])
    request = rf.get(url)
    request.user = admin_user
    form = site._registry[Job].get_form(request, job)(instance=Job.objects.get(pk=job.pk))
    # What the browser would send back unchanged, plus the user's two edits.
    data = {name: form[name].value() for name in form.fields}
    data = {name: value for name, value in data.items() if value is not None}
    data.update(notes="great team", application_status="applied")
    start = mark()
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content[:2000]
    assert [e["changes"] for e in updates_since(start)] == [["application_status", "notes"]]
